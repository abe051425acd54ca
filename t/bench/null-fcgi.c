/* null-fcgi: the cheapest FastCGI application libfcgi allows, for t/bench/run's "ceiling" rows.
 * It answers every request with one fixed response (the headers and body of a real meeting
 * lookup, read from a file at start) and does nothing else: no database, no routing, no log.
 * Whatever rate nginx + this + wrk reach on the machine is an upper bound for any FastCGI
 * application behind the same nginx site, leadbookd included.
 *
 * Usage: null-fcgi SOCKET_PATH WORKERS RESPONSE_FILE
 *   RESPONSE_FILE holds the FastCGI response as the application writes it (CGI headers, blank
 *   line, body). WORKERS processes accept on the one socket. libfcgi keeps a connection open
 *   when nginx asks for it (fastcgi_keep_conn on), so with at least as many workers as nginx
 *   keeps connections this also measures FastCGI keep-alive. Stops on SIGTERM/SIGINT (the
 *   parent signals its workers and waits). Bench only: not installed, not part of make check. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = malloc(65536);
    *len = data ? fread(data, 1, 65536, f) : 0;
    fclose(f);
    return data;
}

static void serve(int sock, const char *resp, size_t len)
{
    FCGX_Request req;
    if (FCGX_InitRequest(&req, sock, 0) != 0)
        _exit(1);
    while (!stop && FCGX_Accept_r(&req) >= 0) {
        char buf[4096];
        while (FCGX_GetStr(buf, sizeof buf, req.in) > 0) /* drain a body, if any */
            ;
        FCGX_PutStr(resp, (int)len, req.out);
        FCGX_Finish_r(&req);
    }
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: null-fcgi SOCKET_PATH WORKERS RESPONSE_FILE\n");
        return 2;
    }
    int workers = atoi(argv[2]);
    size_t len;
    char *resp = read_file(argv[3], &len);
    if (workers < 1 || workers > 256 || !resp || len == 0) {
        fprintf(stderr, "null-fcgi: bad worker count or response file\n");
        return 2;
    }
    if (FCGX_Init() != 0)
        return 1;
    umask(0);
    int sock = FCGX_OpenSocket(argv[1], 1024);
    if (sock < 0) {
        fprintf(stderr, "null-fcgi: cannot listen on %s\n", argv[1]);
        return 1;
    }
    pid_t pids[256];
    for (int i = 0; i < workers; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            struct sigaction sa = {.sa_handler = on_signal};
            sigaction(SIGTERM, &sa, NULL); /* no SA_RESTART: a blocked accept returns */
            serve(sock, resp, len);
        }
        if (pids[i] < 0) {
            perror("fork");
            workers = i;
            break;
        }
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    while (!stop)
        pause();
    for (int i = 0; i < workers; i++)
        kill(pids[i], SIGKILL);
    for (int i = 0; i < workers; i++)
        while (waitpid(pids[i], NULL, 0) < 0 && errno == EINTR)
            ;
    unlink(argv[1]);
    free(resp);
    return 0;
}
