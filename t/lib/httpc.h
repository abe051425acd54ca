/* httpc: a minimal blocking HTTP/1.1 client for the end-to-end tests (loopback only). */
#ifndef LB_TEST_HTTPC_H
#define LB_TEST_HTTPC_H

#include <stddef.h>

struct httpc_resp {
    int status; /* 0 when the request failed (connect, timeout, unparsable answer) */
    char *head; /* header block, NUL-terminated */
    char *body; /* body, NUL-terminated */
    size_t body_len;
};

/* Sends one request to 127.0.0.1:port and reads the answer until the server closes.
 * extra_headers: "Name: value\r\n" lines or NULL. Returns the status (0 on failure). */
int httpc(int port, const char *method, const char *path, const char *extra_headers,
          const char *body, size_t body_len, struct httpc_resp *r, int timeout_ms);
/* The same, from a chosen local address: the client socket is bound to source_addr (an IPv4
 * address; the loopback interface answers all of 127/8, so "127.0.0.2" is another client to
 * nginx), or to the kernel's choice when NULL. Headers of any size (httpc refuses more than
 * about 8 KiB); an answer sent before the whole request was (nginx's 400 for a header too
 * large) is read all the same. */
int httpc_from(const char *source_addr, int port, const char *method, const char *path,
               const char *extra_headers, const char *body, size_t body_len, struct httpc_resp *r,
               int timeout_ms);
/* Copies header name's value into out (case-insensitive name); NULL if absent. */
const char *httpc_header(const struct httpc_resp *r, const char *name, char *out, size_t outlen);
void httpc_free(struct httpc_resp *r);

#endif
