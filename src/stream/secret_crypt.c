/*-------------------------------------------------------------------------
 *
 * secret_crypt.c
 *		Secrets at rest: AES-256-GCM (OpenSSL) under a key read from the file
 *		named by the superuser-only setting stratum.secret_key_file.
 *
 * Stored form: base64 of  0x01 (format version) | 12-byte random nonce |
 * ciphertext | 16-byte tag.  Without a key file, storing a secret is refused
 * with an error that says how to configure one: there is no fallback that
 * would keep secrets in clear.
 *
 * Key rotation: a secret that does not decrypt under the current key is
 * tried under stratum.secret_key_file_previous (the GCM tag tells a wrong
 * key apart); stratum_secrets_reencrypt() then stores every secret again
 * under the current key.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/base64.h"
#include "fmgr.h"
#include "storage/fd.h"
#include "utils/builtins.h"

#include "stream/stream.h"

PG_FUNCTION_INFO_V1(stratum_secret_encrypt);
PG_FUNCTION_INFO_V1(stratum_secret_decrypt);

#define SECRET_VERSION	0x01
#define NONCE_LEN		12
#define TAG_LEN			16
#define KEY_LEN			32

/*
 * hexval
 *		Value of a hexadecimal digit, or -1.
 */
static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * load_key
 *		Read the key in the file at path: 64 hex digits (surrounding white
 *		space ignored) or exactly 32 bytes.  Errors say what is wrong and how
 *		to fix it.
 */
static void
load_key(const char *path, unsigned char *key)
{
	FILE	   *f;
	char		buf[200];
	size_t		n;
	size_t		start = 0,
				end;
	int			i;

	if (path == NULL || path[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("cannot store or read a secret: stratum.secret_key_file is not set"),
				 errdetail("Secrets are encrypted at rest with AES-256-GCM under a key read from that file; stratum never stores them in clear."),
				 errhint("Create a key with \"openssl rand -hex 32 > /etc/postgresql/stratum.key\", make it readable only by the server's user, set stratum.secret_key_file to its path and reload.")));
	f = AllocateFile(path, "rb");
	if (f == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open secret key file \"%s\": %m", path)));
	n = fread(buf, 1, sizeof(buf), f);
	FreeFile(f);

	if (n == KEY_LEN)
	{
		memcpy(key, buf, KEY_LEN);
		explicit_bzero(buf, sizeof(buf));
		return;
	}
	end = n;
	while (start < end && isspace((unsigned char) buf[start]))
		start++;
	while (end > start && isspace((unsigned char) buf[end - 1]))
		end--;
	if (end - start != 2 * KEY_LEN)
		ereport(ERROR,
				(errcode(ERRCODE_CONFIG_FILE_ERROR),
				 errmsg("secret key file \"%s\" does not hold a 256-bit key", path),
				 errdetail("The file must hold 64 hexadecimal digits or exactly 32 bytes; it holds %zu bytes.", n),
				 errhint("Create one with \"openssl rand -hex 32\".")));
	for (i = 0; i < KEY_LEN; i++)
	{
		int			hi = hexval(buf[start + 2 * i]);
		int			lo = hexval(buf[start + 2 * i + 1]);

		if (hi < 0 || lo < 0)
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("secret key file \"%s\" holds a non-hexadecimal character", path)));
		key[i] = (unsigned char) (hi * 16 + lo);
	}
	explicit_bzero(buf, sizeof(buf));
}

/*
 * secret_encrypt
 *		Encrypt a secret; returns the base64 stored form.
 */
char *
secret_encrypt(const char *plaintext)
{
	unsigned char key[KEY_LEN];
	int			plen = strlen(plaintext);
	unsigned char *raw = palloc(1 + NONCE_LEN + plen + TAG_LEN);
	EVP_CIPHER_CTX *ctx;
	int			len,
				clen = 0;
	int			enclen;
	char	   *out;
	bool		ok;

	load_key(stratum_secret_key_file, key);
	raw[0] = SECRET_VERSION;
	if (RAND_bytes(raw + 1, NONCE_LEN) != 1)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("could not generate a random nonce")));
	ctx = EVP_CIPHER_CTX_new();
	ok = ctx != NULL
		&& EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1
		&& EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1
		&& EVP_EncryptInit_ex(ctx, NULL, NULL, key, raw + 1) == 1
		&& EVP_EncryptUpdate(ctx, raw + 1 + NONCE_LEN, &len, (const unsigned char *) plaintext, plen) == 1;
	if (ok)
	{
		clen = len;
		ok = EVP_EncryptFinal_ex(ctx, raw + 1 + NONCE_LEN + clen, &len) == 1;
		clen += len;
	}
	if (ok)
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, raw + 1 + NONCE_LEN + clen) == 1;
	if (ctx)
		EVP_CIPHER_CTX_free(ctx);
	explicit_bzero(key, sizeof(key));
	if (!ok)
		ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR), errmsg("AES-256-GCM encryption failed")));

	len = 1 + NONCE_LEN + clen + TAG_LEN;
	out = palloc(pg_b64_enc_len(len) + 1);
	enclen = pg_b64_encode((const char *) raw, len, out, pg_b64_enc_len(len));
	out[enclen] = '\0';
	return out;
}

/*
 * gcm_open
 *		Decrypt raw (version byte, nonce, ciphertext, tag) under key into out;
 *		false if the tag does not match.
 */
static bool
gcm_open(const unsigned char *key, const unsigned char *raw, int clen, char *out, int *plen)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int			len;
	bool		ok;

	*plen = 0;
	ok = ctx != NULL
		&& EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) == 1
		&& EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) == 1
		&& EVP_DecryptInit_ex(ctx, NULL, NULL, key, raw + 1) == 1
		&& EVP_DecryptUpdate(ctx, (unsigned char *) out, &len, raw + 1 + NONCE_LEN, clen) == 1;
	if (ok)
	{
		*plen = len;
		ok = EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *) (raw + 1 + NONCE_LEN + clen)) == 1
			&& EVP_DecryptFinal_ex(ctx, (unsigned char *) out + *plen, &len) == 1;
		if (ok)
			*plen += len;
	}
	if (ctx)
		EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/*
 * secret_decrypt
 *		Decrypt a stored secret under the current key, or else the previous
 *		one; an error if the data were changed or neither key is the one they
 *		were encrypted with.
 */
char *
secret_decrypt(const char *encoded)
{
	unsigned char key[KEY_LEN];
	int			elen = strlen(encoded);
	unsigned char *raw = palloc(pg_b64_dec_len(elen) + 1);
	int			rawlen = pg_b64_decode(encoded, elen, (char *) raw, pg_b64_dec_len(elen));
	int			clen;
	char	   *out;
	int			plen = 0;
	bool		ok;
	bool		have_previous = stratum_secret_key_file_previous != NULL &&
		stratum_secret_key_file_previous[0] != '\0';

	if (rawlen < 1 + NONCE_LEN + TAG_LEN || raw[0] != SECRET_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("invalid encrypted secret"),
				 errdetail("It is not base64 of a version-1 AES-256-GCM secret.")));
	clen = rawlen - 1 - NONCE_LEN - TAG_LEN;
	out = palloc(clen + 1);
	load_key(stratum_secret_key_file, key);
	ok = gcm_open(key, raw, clen, out, &plen);
	if (!ok && have_previous)
	{
		load_key(stratum_secret_key_file_previous, key);
		ok = gcm_open(key, raw, clen, out, &plen);
	}
	explicit_bzero(key, sizeof(key));
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("could not decrypt a stored secret"),
				 errdetail(have_previous
						   ? "The authentication tag does not match under stratum.secret_key_file nor stratum.secret_key_file_previous: the secret was stored with another key, or the data were changed."
						   : "The authentication tag does not match: the key in stratum.secret_key_file is not the one the secret was stored with, or the data were changed."),
				 errhint("Restore the original key file (after a key change, set stratum.secret_key_file_previous to the old one), or store the secret again.")));
	out[plen] = '\0';
	return out;
}

/*
 * stratum_secret_encrypt / stratum_secret_decrypt
 *		SQL wrappers.
 */
Datum
stratum_secret_encrypt(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(secret_encrypt(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}

Datum
stratum_secret_decrypt(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(secret_decrypt(text_to_cstring(PG_GETARG_TEXT_PP(0)))));
}
