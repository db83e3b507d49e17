"""``python -m sklstm ...``: same as the ``sklstm`` console script."""

from sklstm.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
