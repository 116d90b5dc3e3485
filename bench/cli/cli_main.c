/* bench/cli/cli_main.c: the `unlearnbench` executable; everything else of the command line is
 * the ub_cli library (cli.c dispatches the commands). */
#include "cli.h"

int main(int argc, char **argv) { return ub_cli_main(argc, argv); }
