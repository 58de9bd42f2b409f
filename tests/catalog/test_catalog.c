/* test_catalog.c - the C lookups against the seed documents.
 *
 * argv[1] is tests/fixtures/seed_pairs.tsv: every (code, name, profile) pair
 * the seed documents list, derived from them once and kept in the repository
 * so that this test stands without the seeds beside it. */
#include <stdlib.h>

#include <parley/errors.h>

#include "../lib/tap.h"

typedef struct pair {
    int code;
    char name[96];
    parley_profile profile;
} pair;

static pair pairs[256];
static int npairs;
static const char *fixture;

static void load_fixture(void)
{
    FILE *f = fopen(fixture, "r");
    if (!f) {
        printf("# cannot open %s\n", fixture);
        return;
    }
    char line[512], prof[16];
    while (fgets(line, sizeof line, f) && npairs < 256) {
        if (line[0] == '#')
            continue;
        pair *p = &pairs[npairs];
        if (sscanf(line, "%d\t%95s\t%15s", &p->code, p->name, prof) == 3 && parley_profile_parse(prof, &p->profile))
            npairs++;
    }
    fclose(f);
}

static const char *const vendor_words[] = {"videosdk", "sceenic", "support@", "http", "discord", "tinyurl"};

static bool mentions_vendor(const char *text)
{
    char lower[2048];
    size_t n = strlen(text);
    if (n >= sizeof lower)
        return true;
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)(text[i] >= 'A' && text[i] <= 'Z' ? text[i] + 32 : text[i]);
    for (size_t i = 0; i < sizeof vendor_words / sizeof vendor_words[0]; i++)
        if (strstr(lower, vendor_words[i]))
            return true;
    return false;
}

TEST(fixture_has_every_seed_pair)
{
    CHECKF(npairs == 109, "%d pairs", npairs);
}

TEST(every_seed_pair_resolves_by_code)
{
    for (int i = 0; i < npairs; i++) {
        const parley_error_info *e = parley_error_lookup(pairs[i].code, pairs[i].profile);
        CHECKF(e != NULL, "code %d", pairs[i].code);
        if (e)
            CHECKF(e->profile == pairs[i].profile, "code %d profile", pairs[i].code);
    }
}

TEST(every_seed_pair_resolves_by_name)
{
    for (int i = 0; i < npairs; i++) {
        const parley_error_info *by_name = parley_error_by_name(pairs[i].name, pairs[i].profile);
        const parley_error_info *by_code = parley_error_lookup(pairs[i].code, pairs[i].profile);
        CHECKF(by_name != NULL, "%s", pairs[i].name);
        CHECKF(by_name == by_code, "%s and %d disagree", pairs[i].name, pairs[i].code);
    }
}

TEST(aliases_resolve_to_their_entry)
{
    const parley_error_info *e = parley_error_lookup(4009, PARLEY_PROFILE_ALL);
    REQUIRE(e != NULL);
    CHECK(!strcmp(e->name, "MAX_PARTCIPANT_REACHED"));
    CHECK(parley_error_by_name("MAX_PARTICIPANT_REACHED", PARLEY_PROFILE_ALL) == e);
    CHECK(parley_error_by_name("UNAUTHORIZED_PARTICIPANT_ID", PARLEY_PROFILE_ALL) ==
          parley_error_by_name("UNAUTHORIZED_PARTCIPANT_ID", PARLEY_PROFILE_ALL));
    CHECK(PARLEY_ERR_MAX_PARTCIPANT_REACHED == 4009 && PARLEY_ERR_MAX_PARTICIPANT_REACHED == 4009);
    for (size_t i = 0; i < parley_error_count(); i++) {
        const parley_error_info *x = parley_error_at(i);
        for (const char *const *a = x->aliases; *a; a++)
            CHECKF(parley_error_by_name(*a, x->profile) == x, "alias %s", *a);
    }
}

TEST(profiles_keep_the_30xx_codes_apart)
{
    const parley_error_info *web = parley_error_lookup(3011, PARLEY_PROFILE_WEB);
    const parley_error_info *native = parley_error_lookup(3011, PARLEY_PROFILE_NATIVE);
    REQUIRE(web && native);
    CHECK(!strcmp(web->name, "ERROR_GET_VIDEO_MEDIA"));
    CHECK(!strcmp(native->name, "ERROR_STARTING_VIDEO"));
    CHECK(parley_error_lookup(3011, PARLEY_PROFILE_ALL) == NULL); /* ambiguous */
    CHECK(parley_error_lookup(3001, PARLEY_PROFILE_WEB) == NULL); /* native only */
    CHECK(parley_error_lookup(3035, PARLEY_PROFILE_NATIVE) == NULL); /* web only */
    CHECK(PARLEY_ERR_WEB_ERROR_CAMERA_IN_USE == 3023 && PARLEY_ERR_NATIVE_ERROR_CAMERA_IN_USE == 3003);
    CHECK(PARLEY_ERR_ERROR_ACTION_PERFORMED_BEFORE_MEETING_JOINED == 3022); /* native is libparley's */
    CHECK(parley_error_lookup(4002, PARLEY_PROFILE_WEB) == parley_error_lookup(4002, PARLEY_PROFILE_NATIVE));
}

TEST(iteration_covers_every_code_once_per_profile)
{
    size_t n = parley_error_count();
    CHECKF(n == PARLEY_ERROR_ENTRY_COUNT, "%zu", n);
    CHECK(parley_error_at(n) == NULL);
    for (size_t i = 0; i < n; i++) {
        const parley_error_info *e = parley_error_at(i);
        CHECKF(parley_error_lookup(e->code, e->profile) == e, "%d %s", e->code, e->name);
        CHECK(parley_layer_name(e->layer) && parley_profile_name(e->profile));
        CHECK((e->layer == PARLEY_LAYER_CLIENT) == (e->profile != PARLEY_PROFILE_ALL));
    }
}

TEST(sceenic_platform_codes_are_present)
{
    static const struct { int code; const char *name; } extra[] = {
        {-1, "UNKNOWN_ERROR"}, {308, "MEDIA_AUDIO_PERMISSION_ERROR_CODE"},
        {309, "MEDIA_VIDEO_PERMISSION_ERROR_CODE"}, {801, "TRANSPORT_REQUEST_ERROR_CODE"},
        {802, "TRANSPORT_RESPONSE_ERROR_CODE"}, {803, "TRANSPORT_ERROR_CODE"},
        {901, "GENERIC_CONNECTION_ERROR"}, {999, "GENERIC_ERROR_CODE"},
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) {
        const parley_error_info *e = parley_error_lookup(extra[i].code, PARLEY_PROFILE_ALL);
        CHECKF(e && !strcmp(e->name, extra[i].name) && e->layer == PARLEY_LAYER_SESSION, "%d", extra[i].code);
    }
}

TEST(layers_follow_the_code_ranges)
{
    for (size_t i = 0; i < parley_error_count(); i++) {
        const parley_error_info *e = parley_error_at(i);
        parley_layer want = e->code >= 5000 ? PARLEY_LAYER_RUNTIME
                          : e->code >= 4000 ? PARLEY_LAYER_REQUEST
                          : e->code >= 3000 ? PARLEY_LAYER_CLIENT
                          : e->code >= 1100 ? PARLEY_LAYER_TOKEN
                                            : PARLEY_LAYER_SESSION;
        CHECKF(e->layer == want, "%d is %s", e->code, parley_layer_name(e->layer));
    }
}

TEST(fatal_flags_match_the_product)
{
    for (int c = 4001; c <= 4010; c++)
        CHECKF(parley_error_lookup(c, PARLEY_PROFILE_ALL)->fatal, "%d", c);
    for (int c = 4022; c <= 4027; c++)
        CHECKF(parley_error_lookup(c, PARLEY_PROFILE_ALL)->fatal, "%d", c);
    CHECK(!parley_error_lookup(5001, PARLEY_PROFILE_ALL)->fatal);
    CHECK(!parley_error_lookup(206, PARLEY_PROFILE_ALL)->fatal);
    CHECK(!parley_error_lookup(4011, PARLEY_PROFILE_ALL)->fatal);
}

TEST(no_message_names_a_vendor)
{
    for (size_t i = 0; i < parley_error_count(); i++) {
        const parley_error_info *e = parley_error_at(i);
        CHECKF(!mentions_vendor(e->message), "%d message", e->code);
        CHECKF(!mentions_vendor(e->remedy), "%d remedy", e->code);
        CHECKF(!mentions_vendor(e->trigger), "%d trigger", e->code);
        CHECKF(*e->message && *e->trigger && *e->remedy, "%d has empty text", e->code);
    }
}

TEST(leave_reasons_are_their_own_table)
{
    const parley_leave_reason *r = parley_leave_reason_lookup(1011);
    REQUIRE(r != NULL);
    CHECK(!strcmp(r->name, "DUPLICATE_PARTICIPANT") && !strcmp(r->origin, "server"));
    CHECK(PARLEY_LEAVE_MANUAL_LEAVE_CALLED == 1101);
    CHECK(parley_leave_reason_count() == 15);
    CHECK(parley_leave_reason_lookup(4002) == NULL);
    /* 1101 is both a leave reason and a token error; the two never mix. */
    CHECK(strcmp(parley_leave_reason_lookup(1101)->name, parley_error_lookup(1101, PARLEY_PROFILE_ALL)->name));
}

TEST(unknown_input_is_refused)
{
    parley_profile p;
    parley_layer l;
    CHECK(parley_error_lookup(4242, PARLEY_PROFILE_ALL) == NULL);
    CHECK(parley_error_by_name("NOT_A_CODE", PARLEY_PROFILE_ALL) == NULL);
    CHECK(parley_error_by_name(NULL, PARLEY_PROFILE_ALL) == NULL);
    CHECK(parley_error_by_name("invalid_token", PARLEY_PROFILE_ALL) == NULL); /* names are exact */
    CHECK(!parley_profile_parse("desktop", &p) && !parley_layer_parse("media", &l));
    CHECK(parley_profile_name((parley_profile)7) == NULL);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_catalog SEED_PAIRS.tsv\n");
        return 2;
    }
    fixture = argv[1];
    load_fixture();
    RUN(fixture_has_every_seed_pair);
    RUN(every_seed_pair_resolves_by_code);
    RUN(every_seed_pair_resolves_by_name);
    RUN(aliases_resolve_to_their_entry);
    RUN(profiles_keep_the_30xx_codes_apart);
    RUN(iteration_covers_every_code_once_per_profile);
    RUN(sceenic_platform_codes_are_present);
    RUN(layers_follow_the_code_ranges);
    RUN(fatal_flags_match_the_product);
    RUN(no_message_names_a_vendor);
    RUN(leave_reasons_are_their_own_table);
    RUN(unknown_input_is_refused);
    return tap_done();
}
