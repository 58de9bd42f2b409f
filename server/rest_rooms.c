/* rest_rooms.c - the rooms API of docs/protocol.md §3: create, list,
 * validate, get, update, deactivate; and /healthz.
 *
 * Rooms are the caller's organisation's only: a room of another
 * organisation is as unknown as one that does not exist (4003, 404).
 * Changing a live room's settings applies to its next join; disabling a
 * live room ends its session (meeting-left ROOM_CLOSE). */
#include <string.h>

#include "access.h"
#include "rest.h"
#include "room.h"
#include "server.h"

static int64_t org_of(const http_req *rq)
{
    return rq->tok.key.org_id;
}

void rest_health(http_req *rq, const char *segment)
{
    (void)segment;
    http_reply(rq, 200, json_pack("{s:b}", "ok", 1));
}

bool rest_page(http_req *rq, parley_page *out)
{
    char err[160];
    if (parley_page_parse(http_arg(rq, "page"), http_arg(rq, "perPage"), out, err, sizeof err) ==
        PARLEY_STORE_OK)
        return true;
    http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, err);
    return false;
}

bool rest_room_lookup(http_req *rq, const char *ref, parley_room *out)
{
    if (!access_room_ref_valid(ref)) {
        http_fail(rq, PARLEY_ERR_INVALID_MEETING_ID, 400, NULL, "malformed roomId");
        return false;
    }
    int rc = parley_store_room_get(server.store, org_of(rq), ref, out);
    if (rc == PARLEY_STORE_NOT_FOUND) {
        http_fail(rq, PARLEY_ERR_INVALID_MEETING_ID, 404, NULL, "no such room");
        return false;
    }
    if (rc != PARLEY_STORE_OK) {
        http_fail_store(rq, NULL);
        return false;
    }
    if (parley_token_check_room(&rq->tok.claims, out->room_id, out->custom_room_id)) {
        http_fail(rq, PARLEY_ERR_UNAUTHORIZED_MEETING_ID, 403, out->room_id,
                  "the token is bound to another room");
        return false;
    }
    if (parley_token_check_key_room(&rq->tok.key, out->room_id, out->custom_room_id)) {
        http_fail(rq, PARLEY_ERR_UNAUTHORIZED_REQUEST, 403, out->room_id,
                  "the API key is bound to another room");
        return false;
    }
    return true;
}

static void reply_room(http_req *rq, const parley_room *rec)
{
    http_reply(rq, 200, parley_room_json(rec, NULL));
}

/* settings of body (if any) over base; false after answering 803. */
static bool body_settings(http_req *rq, json_t *body, const parley_room_settings *base,
                          parley_room_settings *out)
{
    *out = *base;
    json_t *s = json_object_get(body, "settings");
    if (!s || json_is_null(s))
        return true;
    char err[160];
    if (!json_is_object(s)) {
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, "settings must be an object");
        return false;
    }
    if (parley_room_settings_from_json(s, base, out, err, sizeof err) != PARLEY_STORE_OK) {
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, err);
        return false;
    }
    return true;
}

void rest_room_create(http_req *rq, const char *segment)
{
    (void)segment;
    json_t *body = http_body_object(rq);
    if (!body)
        return;
    const char *custom = NULL;
    json_t *cv = json_object_get(body, "customRoomId");
    if (cv && !json_is_null(cv)) {
        custom = json_string_value(cv);
        if (!custom || !access_room_ref_valid(custom)) {
            http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL,
                      "customRoomId must be 1-128 letters, digits or - _ . ~ :");
            json_decref(body);
            return;
        }
    }
    parley_room_settings defaults, settings;
    parley_room_settings_init(&defaults);
    if (!body_settings(rq, body, &defaults, &settings)) {
        json_decref(body);
        return;
    }
    parley_room rec;
    int rc = parley_store_room_create(server.store, org_of(rq), custom, &settings, &rec, NULL);
    json_decref(body);
    if (rc == PARLEY_STORE_INVALID) {
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL,
                  parley_store_errmsg(server.store));
        return;
    }
    if (rc != PARLEY_STORE_OK) {
        http_fail_store(rq, NULL);
        return;
    }
    reply_room(rq, &rec);
}

void rest_room_list(http_req *rq, const char *segment)
{
    (void)segment;
    parley_page page;
    if (!rest_page(rq, &page))
        return;
    json_t *out = NULL;
    if (parley_store_room_list_json(server.store, org_of(rq), page, NULL, &out) != PARLEY_STORE_OK) {
        http_fail_store(rq, NULL);
        return;
    }
    http_reply(rq, 200, out);
}

void rest_room_validate(http_req *rq, const char *segment)
{
    parley_room rec;
    if (!rest_room_lookup(rq, segment, &rec))
        return;
    if (rec.disabled) {
        http_fail(rq, PARLEY_ERR_SESSION_CLOSED_ERROR_CODE, 409, rec.room_id,
                  "the room is deactivated");
        return;
    }
    reply_room(rq, &rec);
}

void rest_room_get(http_req *rq, const char *segment)
{
    parley_room rec;
    if (rest_room_lookup(rq, segment, &rec))
        reply_room(rq, &rec);
}

/* Write rec and apply it to the live room, if any. */
static void save_room(http_req *rq, parley_room *rec)
{
    if (parley_store_room_update(server.store, rec) != PARLEY_STORE_OK) {
        http_fail_store(rq, rec->room_id);
        return;
    }
    room *r = room_find(rec->room_id);
    if (r) {
        r->settings = rec->settings;
        if (rec->disabled)
            room_end(r, PARLEY_LEAVE_ROOM_CLOSE);
    }
    reply_room(rq, rec);
}

void rest_room_update(http_req *rq, const char *segment)
{
    parley_room rec;
    if (!rest_room_lookup(rq, segment, &rec))
        return;
    json_t *body = http_body_object(rq);
    if (!body)
        return;
    json_t *status = json_object_get(body, "status");
    if (status && !json_is_null(status)) {
        const char *s = json_string_value(status);
        if (s && !strcmp(s, "enabled")) {
            rec.disabled = false;
        } else if (s && !strcmp(s, "disabled")) {
            rec.disabled = true;
        } else {
            http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, rec.room_id,
                      "status must be enabled or disabled");
            json_decref(body);
            return;
        }
    }
    bool ok = body_settings(rq, body, &rec.settings, &rec.settings);
    json_decref(body);
    if (ok)
        save_room(rq, &rec);
}

void rest_room_deactivate(http_req *rq, const char *segment)
{
    (void)segment;
    json_t *body = http_body_object(rq);
    if (!body)
        return;
    const char *ref = json_string_value(json_object_get(body, "roomId"));
    parley_room rec;
    if (!ref)
        http_fail(rq, PARLEY_ERR_TRANSPORT_ERROR_CODE, 400, NULL, "roomId (a string) is required");
    else if (rest_room_lookup(rq, ref, &rec)) {
        rec.disabled = true;
        save_room(rq, &rec);
    }
    json_decref(body);
}
