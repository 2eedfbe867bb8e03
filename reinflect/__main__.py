"""``python -m reinflect`` runs the command-line interface."""

from reinflect.cli import main

if __name__ == "__main__":
    main()
