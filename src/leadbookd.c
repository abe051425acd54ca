/* leadbookd: the FastCGI server (placeholder until the master lands). */
#include "config.h"
#include "log.h"

int main(void)
{
    struct lb_config cfg;
    lb_config_defaults(&cfg);
    lb_log_init("leadbookd", LB_LOG_INFO);
    return 0;
}
