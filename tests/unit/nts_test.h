/* SPDX-License-Identifier: ISC */
/* Shared by the NTS unit tests: write a throwaway certificate and its key
 * (PEM) and free both. Include after cmocka.h and OpenSSL's pem.h. */
#ifndef TEMPUS_NTS_TEST_H
#define TEMPUS_NTS_TEST_H

static void nts_test_write_pem(X509 *x, EVP_PKEY *pk, const char *crt, const char *key)
{
    FILE *f = fopen(crt, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_X509(f, x), 1);
    assert_int_equal(fclose(f), 0);
    f = fopen(key, "w");
    assert_non_null(f);
    assert_int_equal(PEM_write_PrivateKey(f, pk, NULL, NULL, 0, NULL, NULL), 1);
    assert_int_equal(fclose(f), 0);
    X509_free(x);
    EVP_PKEY_free(pk);
}

#endif
