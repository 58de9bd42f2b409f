/* lobby.h - the waiting room of ask_join joiners (docs/protocol.md §2.3).
 *
 * A waiting joiner is a room member in state PS_WAITING with a connection
 * and an entry timer. allow_join holders get entry-requested; one of them
 * decides with entry-response; the timer (the room's entryTimeout or
 * --entry-timeout) decides "denied" when nobody does. */
#ifndef PARLEYD_LOBBY_H
#define PARLEYD_LOBBY_H

#include <stdbool.h>

#include "room.h"

/* Tell p it waits, tell the admitters, start the entry timer. */
void lobby_wait(participant *p);
/* Decide for waiting p: admitted (subject to the limits) or denied. */
void lobby_decide(participant *p, bool allowed);

#endif
