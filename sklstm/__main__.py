"""``python -m sklstm ...``: same as the ``sklstm`` console script."""

from sklstm.cli import run

if __name__ == "__main__":
    run()
