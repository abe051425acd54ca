/* promtext: checks of the Prometheus text exposition format 0.0.4, for the metrics tests. */
#ifndef LB_TEST_PROMTEXT_H
#define LB_TEST_PROMTEXT_H

#include <stddef.h>

/* 0 when every line is "# HELP name text", "# TYPE name counter|gauge|histogram|summary|untyped"
 * or a sample "name{label="value",...} value" / "name value" whose family (name, or name less
 * _bucket/_sum/_count for a histogram) had its # TYPE line before it, no family is typed twice,
 * and the text ends with a line feed; else -1 with the reason and the line in err. */
int promtext_check(const char *text, char *err, size_t errlen);
/* The value of the sample written exactly as series ("name{labels}" or "name"): 1 and *out, or
 * 0 when there is no such line. */
int promtext_value(const char *text, const char *series, double *out);
/* The same, 0 when absent (a counter not yet incremented is not rendered). */
double promtext_value0(const char *text, const char *series);

#endif
