/* promtext: see promtext.h. A strict reader of what leadbookd writes, not of every spelling the
 * format allows (no timestamps, no blank lines). */
#include "promtext.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FAMILIES 128

static int name_char(char c, int first)
{
    return isalpha((unsigned char)c) || c == '_' || c == ':' ||
           (!first && isdigit((unsigned char)c));
}

/* Length of the metric name at s (0: none). */
static size_t name_len(const char *s)
{
    size_t n = 0;
    while (name_char(s[n], n == 0))
        n++;
    return n;
}

static int fail(char *err, size_t errlen, const char *why, const char *line, size_t len)
{
    snprintf(err, errlen, "%s: \"%.*s\"", why, (int)(len > 200 ? 200 : len), line);
    return -1;
}

/* The labels "{...}" at s; returns the length, or 0 when malformed. */
static size_t labels_len(const char *s, size_t max)
{
    size_t i = 1;
    if (s[0] != '{')
        return 0;
    if (s[i] == '}')
        return i + 1;
    for (;;) {
        size_t n = name_len(s + i);
        if (!n || i + n + 2 > max || s[i + n] != '=' || s[i + n + 1] != '"')
            return 0;
        i += n + 2;
        while (i < max && s[i] != '"') {
            if (s[i] == '\\') {
                if (i + 1 >= max || !strchr("\\\"n", s[i + 1]))
                    return 0;
                i++;
            }
            i++;
        }
        if (i >= max)
            return 0;
        i++; /* closing quote */
        if (s[i] == '}')
            return i + 1;
        if (s[i] != ',')
            return 0;
        i++;
    }
}

static int is_value(const char *s, size_t len)
{
    char buf[64];
    if (len == 0 || len >= sizeof buf)
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (strcmp(buf, "+Inf") == 0 || strcmp(buf, "-Inf") == 0 || strcmp(buf, "NaN") == 0)
        return 1;
    char *end;
    strtod(buf, &end);
    return *end == '\0';
}

int promtext_check(const char *text, char *err, size_t errlen)
{
    char families[MAX_FAMILIES][128];
    char types[MAX_FAMILIES][16];
    int nfam = 0;
    size_t total = strlen(text);
    if (total == 0 || text[total - 1] != '\n')
        return fail(err, errlen, "does not end with a line feed", text, total);
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = (size_t)(nl - line);
        if (len == 0)
            return fail(err, errlen, "empty line", line, len);
        if (line[0] == '#') {
            int help = strncmp(line, "# HELP ", 7) == 0, type = strncmp(line, "# TYPE ", 7) == 0;
            size_t n = name_len(line + 7);
            if ((!help && !type) || !n || line[7 + n] != ' ')
                return fail(err, errlen, "bad comment", line, len);
            if (type) {
                const char *t = line + 8 + n;
                size_t tl = len - 8 - n;
                int known = 0;
                static const char *const kinds[] = {"counter", "gauge", "histogram", "summary",
                                                    "untyped"};
                for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
                    known |= tl == strlen(kinds[k]) && strncmp(t, kinds[k], tl) == 0;
                if (!known || n >= sizeof families[0] || nfam == MAX_FAMILIES)
                    return fail(err, errlen, "bad TYPE", line, len);
                for (int f = 0; f < nfam; f++)
                    if (strlen(families[f]) == n && strncmp(families[f], line + 7, n) == 0)
                        return fail(err, errlen, "family typed twice", line, len);
                memcpy(families[nfam], line + 7, n);
                families[nfam][n] = '\0';
                memcpy(types[nfam], t, tl);
                types[nfam][tl] = '\0';
                nfam++;
            }
        } else {
            size_t n = name_len(line);
            if (!n)
                return fail(err, errlen, "no metric name", line, len);
            size_t i = n;
            if (line[i] == '{') {
                size_t l = labels_len(line + i, len - i);
                if (!l)
                    return fail(err, errlen, "bad labels", line, len);
                i += l;
            }
            if (line[i] != ' ' || !is_value(line + i + 1, len - i - 1))
                return fail(err, errlen, "bad value", line, len);
            /* its family: the name itself, or a histogram's less its suffix */
            int typed = 0;
            for (int f = 0; f < nfam && !typed; f++) {
                size_t fl = strlen(families[f]);
                if (fl == n && strncmp(families[f], line, n) == 0)
                    typed = strcmp(types[f], "histogram") != 0;
                else if (fl < n && strncmp(families[f], line, fl) == 0 &&
                         strcmp(types[f], "histogram") == 0) {
                    const char *suf = line + fl;
                    size_t sl = n - fl;
                    typed = (sl == 7 && strncmp(suf, "_bucket", 7) == 0) ||
                            (sl == 4 && strncmp(suf, "_sum", 4) == 0) ||
                            (sl == 6 && strncmp(suf, "_count", 6) == 0);
                }
            }
            if (!typed)
                return fail(err, errlen, "sample without its # TYPE before it", line, len);
        }
        line = nl + 1;
    }
    return 0;
}

int promtext_value(const char *text, const char *series, double *out)
{
    size_t sl = strlen(series);
    for (const char *line = text; line && *line;) {
        if (strncmp(line, series, sl) == 0 && line[sl] == ' ') {
            *out = strtod(line + sl + 1, NULL);
            return 1;
        }
        line = strchr(line, '\n');
        if (line)
            line++;
    }
    return 0;
}

double promtext_value0(const char *text, const char *series)
{
    double v = 0;
    return promtext_value(text, series, &v) ? v : 0;
}
