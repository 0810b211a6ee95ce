#define OPENSSL_API_COMPAT 10101 // SHA256_Init/Update/Final, declared without deprecation (SHA256.swift says why)
#include <openssl/sha.h>
