/* check_sha256: lb_sha256 against the FIPS 180-4 / NIST CAVP example vectors, including the
 * padding edge cases (55, 56, 63, 64 bytes) and a million 'a's. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "digest.h"

static void check_hex(const void *data, size_t len, const char *want)
{
    char got[2 * LB_SHA256_LEN + 1];
    lb_sha256_hex(data, len, got);
    ck_assert_str_eq(got, want);
}

START_TEST(test_vectors)
{
    check_hex("", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    check_hex("abc", 3, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check_hex(two, strlen(two), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    const char *four = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnop"
                       "jklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check_hex(four, strlen(four),
              "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(test_padding_edges)
{
    char a[64];
    memset(a, 'a', sizeof a);
    check_hex(a, 55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
    check_hex(a, 56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
    check_hex(a, 63, "7d3e74a05d7db15bce4ad9ec0658ea98e3f06eeecf16b4c6fff2da457ddc2f34");
    check_hex(a, 64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}
END_TEST

START_TEST(test_million_a)
{
    size_t n = 1000000;
    char *m = malloc(n);
    ck_assert_ptr_nonnull(m);
    memset(m, 'a', n);
    check_hex(m, n, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(m);
}
END_TEST

START_TEST(test_binary_digest)
{
    unsigned char d[LB_SHA256_LEN];
    lb_sha256("abc", 3, d);
    ck_assert_uint_eq(d[0], 0xba);
    ck_assert_uint_eq(d[31], 0xad);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("sha256");
    TCase *tc = tcase_create("fips180-4");
    tcase_add_test(tc, test_vectors);
    tcase_add_test(tc, test_padding_edges);
    tcase_add_test(tc, test_million_a);
    tcase_add_test(tc, test_binary_digest);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
