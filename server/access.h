/* access.h - checks shared by signaling and REST: the shape of room and
 * participant ids, the limits that admit a participant, and the effective
 * waiting-room timeout. */
#ifndef PARLEYD_ACCESS_H
#define PARLEYD_ACCESS_H

#include <stdbool.h>

#include "room.h"
#include "store.h"

/* A roomId ("abcd-efgh-ijkl") or a customRoomId: 1-128 characters of
 * letters, digits and - _ . ~ : */
bool access_room_ref_valid(const char *ref);
/* 1-64 characters, no whitespace or control characters. */
bool access_participant_id_valid(const char *id);

/* Whether p (or a newcomer when p is NULL) may be counted in room r in mode:
 * 0, or 4009 (only when entering), 4010, 4026, 4027. A store failure while
 * reading the organisation's limits counts as no limit (and is logged). */
int access_check_limits(room *r, const participant *p, pmode mode, bool entering);

/* Seconds an ask_join joiner waits in this room: the room's entryTimeout
 * when it was changed from the default, else --entry-timeout. */
int access_entry_timeout(const parley_room_settings *s);

#endif
