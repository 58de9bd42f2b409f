/* access.c - shared admission checks: id shapes and meeting limits.
 *
 * Limits are counted over live state (room.c): a room's participants and
 * speakers, and an organisation's speakers and viewers across its rooms.
 * The organisation's limits are read from the store at each check, so an
 * operator's `parley admin org set` applies to the next join. */
#include <string.h>

#include "access.h"
#include "events.h"
#include "log.h"
#include "server.h"

bool access_room_ref_valid(const char *ref)
{
    size_t n = ref ? strlen(ref) : 0;
    if (n == 0 || n > PARLEY_CUSTOM_ROOM_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = ref[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == ':';
        if (!ok)
            return false;
    }
    return true;
}

bool access_participant_id_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > PARLEY_PARTICIPANT_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)id[i];
        if (ch <= ' ' || ch == 0x7f)
            return false;
    }
    return true;
}

int access_check_limits(room *r, const participant *p, pmode mode, bool entering)
{
    const parley_room_settings *s = &r->settings;
    room_counts n;
    room_count(r, p, &n);
    if (entering && s->max_participants > 0 && n.participants >= s->max_participants)
        return PARLEY_ERR_MAX_PARTCIPANT_REACHED;
    if (mode == MODE_CONFERENCE && s->max_speakers > 0 && n.speakers >= s->max_speakers)
        return PARLEY_ERR_MAX_SPEAKER_REACHED;

    parley_org org;
    if (parley_store_org_get_by_id(server.store, r->org_id, &org) != PARLEY_STORE_OK) {
        parley_log_ctx lc = {.room_id = r->room_id};
        parley_log(PARLEY_LOG_ERROR, &lc, "could not read the organisation's limits: %s",
                   parley_store_errmsg(server.store));
        return 0;
    }
    int speakers, viewers;
    org_count(r->org_id, p, &speakers, &viewers);
    if (mode == MODE_CONFERENCE && org.limits.max_speakers > 0 &&
        speakers >= org.limits.max_speakers)
        return PARLEY_ERR_MAX_SPEAKER_LIMIT_REACHED_ON_ORGANIZATION;
    if (mode == MODE_VIEWER && org.limits.max_viewers > 0 && viewers >= org.limits.max_viewers)
        return PARLEY_ERR_MAX_VIEWER_LIMIT_REACHED_ON_ORGANIZATION;
    return 0;
}

int access_entry_timeout(const parley_room_settings *s)
{
    if (s->entry_timeout > 0 && s->entry_timeout != PARLEY_ENTRY_TIMEOUT_DEFAULT)
        return s->entry_timeout;
    return server.cfg.entry_timeout;
}
