/* SPDX-License-Identifier: GPL-2.0 */
/*
 * qmp.h - a small client of QEMU's machine protocol (QMP) for physmapctl
 * follow: commands and their replies, events, over a unix socket or a
 * character device (a virtio-serial port, a serial line, a pty), with the
 * little JSON it needs.
 */
#ifndef _PHYSMAPCTL_QMP_H
#define _PHYSMAPCTL_QMP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

/* what the calls below return */
#define QMP_OK		0
#define QMP_ERROR	(-1)	/* the message is in err */
#define QMP_EOF		1	/* QEMU closed the connection */
#define QMP_STOP	2	/* *stop was set by a signal */

/**
 * struct qmp_event - an event QEMU sent
 * @name: "DEVICE_ADDED", ...
 * @device: data.device (the device's id), or NULL.
 * @path: data.path (its QOM path), or NULL.
 */
struct qmp_event {
	char *name;
	char *device;
	char *path;
};

/**
 * struct qmp - a connection
 * @fd: the socket or device.
 * @path: as given to qmp_open().
 * @buf: bytes read and not yet handled; @len of them, room for @cap.
 * @scan: how far @buf has been scanned for the end of a message.
 * @start: where the message being scanned starts, or -1.
 * @depth: nesting of the scan; @in_str, @esc: in a string, after a backslash.
 * @tag: the start of the id of each command ("physmapctl-<pid>-").
 * @seq: number of the last command.
 * @reply: the last reply to the command being waited for, or NULL.
 * @events: events received and not yet taken, @nevents of them.
 * @err_class: the "class" of the last error reply.
 * @stop: a flag a signal handler sets: waits end with QMP_STOP.
 */
struct qmp {
	int fd;
	const char *path;
	char *buf;
	size_t len, cap, scan;
	long start;
	int depth;
	bool in_str, esc;
	char tag[32];
	unsigned long seq;
	char *reply;
	struct qmp_event *events;
	size_t nevents, events_cap;
	char err_class[64];
	volatile sig_atomic_t *stop;
};

/*
 * qmp_open - connect to the unix socket at path, or open the character
 * device at path read-write (a terminal is put in raw mode). Nothing is
 * read or written yet.
 */
int qmp_open(struct qmp *q, const char *path, volatile sig_atomic_t *stop,
	     char *err, size_t err_size);
void qmp_close(struct qmp *q);

/*
 * qmp_handshake - leave capabilities negotiation: "qmp_capabilities",
 * sent without waiting for the greeting. On a device whose QMP session
 * left negotiation already (an earlier client on the same port), QEMU
 * answers CommandNotFound: that is no error either.
 */
int qmp_handshake(struct qmp *q, int timeout_ms, char *err, size_t err_size);

/*
 * qmp_execute - run command with arguments (a JSON object, or NULL) and
 * wait at most timeout_ms for its reply: *ret receives a copy of the
 * "return" value's JSON text (free() it). Events read meanwhile are
 * queued. An "error" reply is QMP_ERROR with "command: desc" in err and
 * its class in q->err_class.
 */
int qmp_execute(struct qmp *q, const char *command, const char *arguments,
		char **ret, int timeout_ms, char *err, size_t err_size);

/*
 * qmp_hmp - a command of the human monitor through human-monitor-command:
 * *out receives its output, unescaped (free() it).
 */
int qmp_hmp(struct qmp *q, const char *command_line, char **out,
	    int timeout_ms, char *err, size_t err_size);

/* qmp_version - "7.2.22" from query-version into buf, or "" */
void qmp_version(struct qmp *q, char *buf, size_t size, int timeout_ms);

/*
 * qmp_wait - read what QEMU sends for at most timeout_ms (-1: until
 * something comes), queueing events: QMP_OK when something was read or the
 * time is up, else QMP_EOF, QMP_STOP or QMP_ERROR.
 */
int qmp_wait(struct qmp *q, int timeout_ms, char *err, size_t err_size);

/* qmp_next_event - take the oldest queued event into ev: false if none */
bool qmp_next_event(struct qmp *q, struct qmp_event *ev);
void qmp_event_free(struct qmp_event *ev);

/*
 * The JSON of QMP's messages. Each takes the text of one value, p up to
 * end, and returns NULL if it is not what was asked for.
 * json_member - the value of key in an object.
 * json_string - a string's value, unescaped to UTF-8 (free() it); a \u0000
 *	becomes U+FFFD, as does half a surrogate pair.
 * json_skip - the end of the value that starts at p (after white space).
 */
const char *json_member(const char *p, const char *end, const char *key);
char *json_string(const char *p, const char *end);
const char *json_skip(const char *p, const char *end);

#endif /* _PHYSMAPCTL_QMP_H */
