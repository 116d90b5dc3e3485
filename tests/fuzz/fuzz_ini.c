/* tests/fuzz/fuzz_ini.c: the INI configuration reader as `run --config FILE --dry-run` uses it:
 * inih, the option table's value parsers, the method settings' canonical form and every check
 * a run makes before its first step (bench/cli/cmd_run.c). */
#include <fcntl.h>

#include "cli.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512];
    if (fuzz_file("config.ini", data, size, path, sizeof path)) return 0;
    char *argv[] = {"unlearnbench", "run", "--config", path, "--dry-run", NULL};
    /* the printed configuration is the reader's output, not the fuzzer's: stdout goes to
     * /dev/null for the call only */
    static int null_fd = -1;
    if (null_fd < 0) null_fd = open("/dev/null", O_WRONLY);
    fflush(stdout);
    int saved = dup(1);
    dup2(null_fd, 1);
    ub_cli_main(5, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    return 0;
}
