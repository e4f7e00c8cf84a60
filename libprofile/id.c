/*
 * id.c — UUIDs (from libuuid) and the big-endian encodings that make
 * numeric keys sort in numeric order.  Uses nothing else in the library
 * but error.c.
 */
#include "id.h"
#include "error.h"

#include <string.h>
#include <uuid/uuid.h>

void pf_id_generate(pf_id *out)
{
	uuid_generate_random(out->b);
}

int pf_id_format(char buf[PF_ID_STRLEN + 1], const pf_id *id)
{
	if (!buf || !id)
		return pf_seterr(PF_EINVAL, "pf_id_format: NULL argument");
	uuid_unparse_lower(id->b, buf);
	return 0;
}

int pf_id_parse(pf_id *out, const char *text)
{
	if (!out || !text)
		return pf_seterr(PF_EINVAL, "pf_id_parse: NULL argument");
	uuid_t u;
	if (strlen(text) != PF_ID_STRLEN || uuid_parse(text, u) != 0)
		return pf_seterr(PF_EINVAL, "pf_id_parse: '%.40s' is not a UUID "
		                 "(expected 8-4-4-4-12 hex digits)", text);
	memcpy(out->b, u, sizeof out->b);
	return 0;
}

int pf_id_is_zero(const pf_id *id)
{
	if (!id)
		return 1;
	for (size_t i = 0; i < sizeof id->b; i++)
		if (id->b[i])
			return 0;
	return 1;
}

void pf_be64_put(unsigned char *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

uint64_t pf_be64_get(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = (v << 8) | p[i];
	return v;
}

void pf_be32_put(unsigned char *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)v;
}

uint32_t pf_be32_get(const unsigned char *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v = (v << 8) | p[i];
	return v;
}
