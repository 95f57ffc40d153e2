"""`python -m graphviz_ad`: the same as the `gad` command."""

from graphviz_ad.cli import main

main()
