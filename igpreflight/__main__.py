from igpreflight.launch import main

main()
