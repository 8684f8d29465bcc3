/*-------------------------------------------------------------------------
 *
 * fuzz_tcf.c
 *		libFuzzer harness for the TCF TC-string decoder (src/consent/
 *		tcf_decode.c, built standalone): arbitrary bytes must be decoded or
 *		rejected with an error whose position lies inside the input, never
 *		crash, read out of bounds or hang; an accepted string must describe a
 *		consistent model, and decoding must be deterministic.
 *
 *		Build (from the repository root):
 *		  clang -g -O1 -fsanitize=fuzzer,address,undefined -Isrc \
 *		      test/fuzz/fuzz_tcf.c src/consent/tcf_decode.c -o fuzz_tcf
 *		  ./fuzz_tcf -max_len=4096 corpus_grown test/fuzz/corpus/tcf
 *
 *-------------------------------------------------------------------------
 */
#include "consent/tcf_decode.h"

#include <stdlib.h>
#include <string.h>

static TcfModel model;
static TcfModel again;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	TcfError	err = tcf_decode((const char *) data, size, &model);
	TcfError	err2;

	if (err.status != TCF_OK)
	{
		if (err.detail[0] == '\0' || err.position < 0 || (size_t) err.position > size + 1)
			abort();
		if (tcf_status_message(err.status) == NULL)
			abort();
	}
	else
	{
		if (model.version != 2 || size == 0)
			abort();
		if (model.vendor_consents.max_vendor_id > TCF_MAX_VENDOR_ID ||
			model.vendor_li.max_vendor_id > TCF_MAX_VENDOR_ID)
			abort();
		if (model.n_restrictions < 0 || model.n_restrictions > TCF_MAX_RESTRICTIONS)
			abort();
		for (int i = 0; i < model.n_restrictions; i++)
			if (model.restrictions[i].start < 1 || model.restrictions[i].end < model.restrictions[i].start)
				abort();
		if (model.consent_language[0] < 'A' || model.consent_language[0] > 'Z' ||
			model.publisher_cc[1] < 'A' || model.publisher_cc[1] > 'Z')
			abort();
		if (model.num_custom_purposes > 63)
			abort();
	}

	/* Deterministic: the same input gives the same answer. */
	err2 = tcf_decode((const char *) data, size, &again);
	if (err2.status != err.status || err2.position != err.position)
		abort();
	if (err.status == TCF_OK && memcmp(&model, &again, sizeof(model)) != 0)
		abort();
	return 0;
}
