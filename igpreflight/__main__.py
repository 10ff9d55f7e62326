from igpreflight.cli import main

main()
