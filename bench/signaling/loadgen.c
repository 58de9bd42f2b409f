/* loadgen.c - the signaling load generator's entry point: options and checks.
 *
 * Turns the command line into an lg_config (and the drivers' lg_view: token,
 * mode, rooms), checks it, then hands over to lg_run() (phases.c), which
 * runs the load and prints the figures. Exit status: 0 when nothing failed,
 * 1 when something did or the run timed out, 2 for bad usage.
 *
 * Targets are loopback only: the generator refuses any other host. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lg.h"

lg_run_view lg_view;

static const char usage_text[] =
    "usage: loadgen [--target parley|janus] --url ws://127.0.0.1:PORT/PATH [options]\n"
    "\n"
    "  --participants N     participants to join (default 1000)\n"
    "  --rooms R            rooms (Janus: numbered from --janus-room-base; default 10)\n"
    "  --room-ids A,B,...   Parley room ids (their count is the number of rooms)\n"
    "  --rooms-file FILE    Parley room ids, one per line\n"
    "  --rate J             target joins per second; 0 = as fast as the window allows (default 1000)\n"
    "  --window W           at most W joins in flight (default 1000; 0 = no limit)\n"
    "  --hold S             seconds everyone stays after joining (default 5)\n"
    "  --probes K           duplicate-participant probes (default N/10, at most 100)\n"
    "  --probe-rate P       probes per second (default 50)\n"
    "  --keepalive S        each joined participant pings every S seconds (default 20; 0: never)\n"
    "  --token T            Parley token (allow_join); or --apikey K --secret S to mint one\n"
    "  --mode M             Parley join mode (default CONFERENCE)\n"
    "  --janus-room-base B  first Janus room number (default 1000)\n"
    "  --server-pid PID     read the server's CPU and RSS from /proc\n"
    "  --timeout S          stop and report after S seconds whatever happened\n"
    "  --label TEXT         a label copied into the JSON line\n"
    "  --verbose            log failures and lws errors to stderr\n";

static int usage_error(const char *msg, const char *arg)
{
    fprintf(stderr, "loadgen: %s%s%s\n%s", msg, arg ? ": " : "", arg ? arg : "", usage_text);
    return 2;
}



static char **split_rooms(const char *csv, const char *file, int *count)
{
    char *text = NULL;
    if (file) {
        FILE *f = fopen(file, "r");
        if (!f)
            return NULL;
        size_t cap = 0;
        ssize_t n = getdelim(&text, &cap, '\0', f);
        fclose(f);
        if (n < 0) {
            free(text);
            return NULL;
        }
    } else
        text = strdup(csv);
    return text ? lg_split(text, count) : NULL;
}


static void free_rooms(char **rooms)
{
    for (int i = 0; rooms && rooms[i]; i++)
        free(rooms[i]);
    free(rooms);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"target", required_argument, 0, 't'}, {"url", required_argument, 0, 'u'},
        {"participants", required_argument, 0, 'n'}, {"rooms", required_argument, 0, 'R'},
        {"room-ids", required_argument, 0, 'i'}, {"rooms-file", required_argument, 0, 'f'},
        {"rate", required_argument, 0, 'r'}, {"window", required_argument, 0, 'w'},
        {"hold", required_argument, 0, 'H'}, {"probes", required_argument, 0, 'p'},
        {"probe-rate", required_argument, 0, 'P'}, {"token", required_argument, 0, 'T'},
        {"apikey", required_argument, 0, 'k'}, {"secret", required_argument, 0, 's'},
        {"mode", required_argument, 0, 'm'}, {"janus-room-base", required_argument, 0, 'b'},
        {"server-pid", required_argument, 0, 'S'}, {"timeout", required_argument, 0, 'o'},
        {"label", required_argument, 0, 'l'}, {"keepalive", required_argument, 0, 'K'},
        {"verbose", no_argument, 0, 'v'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    const char *target = "parley", *url = NULL, *room_csv = NULL, *room_file = NULL;
    const char *token = NULL, *apikey = NULL, *secret = NULL;
    lg_config cfg = {
        .participants = 1000, .rooms = 10, .window = 1000, .probes = -1,
        .rate = 1000, .probe_rate = 50, .hold = 5, .keepalive = 20,
    };
    lg_view.mode = "CONFERENCE";
    lg_view.janus_room_base = 1000;
    int opt;
    while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't': target = optarg; break;
        case 'u': url = optarg; break;
        case 'n': cfg.participants = atoi(optarg); break;
        case 'R': cfg.rooms = atoi(optarg); break;
        case 'i': room_csv = optarg; break;
        case 'f': room_file = optarg; break;
        case 'r': cfg.rate = atof(optarg); break;
        case 'w': cfg.window = atoi(optarg); break;
        case 'H': cfg.hold = atof(optarg); break;
        case 'p': cfg.probes = atoi(optarg); break;
        case 'P': cfg.probe_rate = atof(optarg); break;
        case 'T': token = optarg; break;
        case 'k': apikey = optarg; break;
        case 's': secret = optarg; break;
        case 'm': lg_view.mode = optarg; break;
        case 'b': lg_view.janus_room_base = atoll(optarg); break;
        case 'S': cfg.server_pid = atoi(optarg); break;
        case 'o': cfg.timeout = atof(optarg); break;
        case 'l': cfg.label = optarg; break;
        case 'K': cfg.keepalive = atof(optarg); break;
        case 'v': cfg.verbose = true; break;
        case 'h': fputs(usage_text, stdout); return 0;
        default: return usage_error("bad option", NULL);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument", argv[optind]);
    if (!strcmp(target, "parley"))
        cfg.drv = &lg_parley_driver;
    else if (!strcmp(target, "janus"))
        cfg.drv = &lg_janus_driver;
    else
        return usage_error("unknown target", target);
    if (!url)
        return usage_error("--url is required", NULL);
    char host[256], path[512];
    if (lg_parse_url(url, host, sizeof host, &cfg.port, path, sizeof path))
        return usage_error("--url must be ws://LOOPBACK:PORT/PATH", url);
    cfg.host = host;
    cfg.path = path;
    if (cfg.participants < 1 || cfg.participants > 100000 || cfg.rate < 0 || cfg.hold < 0 || cfg.hold > 3600 ||
        cfg.probe_rate <= 0 || cfg.keepalive < 0)
        return usage_error("--participants 1..100000, --rate >= 0, --hold 0..3600, --probe-rate > 0", NULL);
    if (cfg.drv == &lg_janus_driver && cfg.rooms < 1)
        return usage_error("--rooms must be at least 1", NULL);
    if (cfg.drv == &lg_parley_driver) {
        if (!room_csv && !room_file)
            return usage_error("Parley needs --room-ids or --rooms-file", NULL);
        if (!token && !(apikey && secret))
            return usage_error("Parley needs --token, or --apikey and --secret", NULL);
    }
    if (cfg.probes < 0)
        cfg.probes = cfg.participants >= 2 ? (cfg.participants / 10 > 100 ? 100 : (cfg.participants / 10 ? cfg.participants / 10 : 1)) : 0;
    if (cfg.probes > cfg.participants)
        cfg.probes = cfg.participants;
    if (!cfg.timeout) {
        double rate = cfg.rate > 0 ? cfg.rate : 200;
        cfg.timeout = 60 + 5 * cfg.participants / rate + cfg.hold + cfg.probes / cfg.probe_rate;
    }
    cfg.fd_limit = lg_raise_fd_limit();
    if ((unsigned)(cfg.participants + cfg.probes) + 64 > cfg.fd_limit) {
        fprintf(stderr, "loadgen: %d connections need more file descriptors than the limit (%u): raise ulimit -n\n",
            cfg.participants + cfg.probes, cfg.fd_limit);
        return 2;
    }
    if (cfg.verbose)
        setenv("LG_VERBOSE", "1", 1);

    char **rooms = NULL, *minted = NULL;
    if (cfg.drv == &lg_parley_driver) {
        rooms = split_rooms(room_csv, room_file, &cfg.rooms);
        if (!rooms || !cfg.rooms) {
            free_rooms(rooms);
            return usage_error("no room ids", room_file ? room_file : room_csv);
        }
        lg_view.rooms = (const char *const *)rooms;
        if (!token)
            token = minted = lg_token_mint(apikey, secret, 6 * 3600);
        if (!token) {
            free_rooms(rooms);
            fprintf(stderr, "loadgen: cannot mint a token\n");
            return 1;
        }
        lg_view.token = token;
    }
    int status = lg_run(&cfg);
    free_rooms(rooms);
    free(minted);
    return status;
}
