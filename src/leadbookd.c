/* leadbookd: read the config, open (or inherit) the listening socket, hand over to the master. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lb_build.h"
#include "app.h"
#include "config.h"
#include "log.h"
#include "prefork.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: leadbookd [-c CONFIG] [-t] [-h] [-V]\n"
            "  -c CONFIG  configuration file (default %s)\n"
            "  -t         check the configuration and exit\n"
            "  -V         print the version and exit\n"
            "Every key can be overridden by LEADBOOKD_<KEY> in the environment.\n",
            LB_CONFIG_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
    const char *config_path = NULL;
    int test_only = 0, opt;
    while ((opt = getopt(argc, argv, "c:thV")) != -1) {
        switch (opt) {
        case 'c':
            config_path = optarg;
            break;
        case 't':
            test_only = 1;
            break;
        case 'V':
            printf("leadbookd %s\n", PACKAGE_VERSION);
            return 0;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    /* an explicit -c must exist; the default path is optional (defaults + environment) */
    int required = config_path != NULL;
    if (!config_path)
        config_path = LB_CONFIG_DEFAULT_PATH;

    struct lb_config cfg;
    lb_config_defaults(&cfg);
    char err[512];
    lb_log_init("leadbookd", LB_LOG_INFO);
    if (lb_config_load(&cfg, config_path, required, err, sizeof err) != 0) {
        lb_log(LB_LOG_ERROR, "config_invalid", "reason=\"%s\"", err);
        return 1;
    }
    lb_log_init("leadbookd", (enum lb_log_level)lb_log_level_parse(cfg.log_level));
    if (lb_app_check_config(&cfg, err, sizeof err) != 0) {
        lb_log(LB_LOG_ERROR, "config_invalid", "reason=\"%s\"", err);
        return 1;
    }
    if (test_only) {
        printf("leadbookd: configuration %s is valid\n", config_path);
        return 0;
    }

    struct lb_listener listener;
    if (lb_listen_open(&cfg, &listener) != 0)
        return 1;
    int status = lb_master_run(
        &cfg, required || access(config_path, R_OK) == 0 ? config_path : NULL, &listener);
    lb_listen_unlink(&listener); /* done at the start of a stop; here if the master failed */
    return status;
}
