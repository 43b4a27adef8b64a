import sys

try:
    from govstream.cli import main
except KeyboardInterrupt:  # Ctrl-C while the command is still starting: no traceback either
    print("interrupted (Ctrl-C)", file=sys.stderr)
    sys.exit(130)

sys.exit(main())
