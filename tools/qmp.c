// SPDX-License-Identifier: GPL-2.0
/*
 * qmp.c - a small QMP client (see qmp.h)
 *
 * QEMU sends one JSON object per message: a greeting ({"QMP": ...}), a
 * reply ({"return": ...} or {"error": {"class": ..., "desc": ...}}, with
 * the command's "id"), or an event ({"event": NAME, "data": ...}). Messages
 * are found by matching braces outside strings, so neither line ends nor
 * pretty printing matter, and bytes before a '{' are skipped (what an
 * earlier client left on a character device, say). Replies whose id is
 * not the one waited for are dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "qmp.h"

#define READ_CHUNK	65536

static int qfail(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int qfail(char *err, size_t err_size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, err_size, fmt, ap);
	va_end(ap);
	return QMP_ERROR;
}

/* --- JSON ---------------------------------------------------------------- */

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

/* the end of the string whose opening quote is at p, or NULL */
static const char *skip_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		if (*p == '\\')
			p++;
		else if (*p == '"')
			return p + 1;
	}
	return NULL;
}

const char *json_skip(const char *p, const char *end)
{
	int depth = 0;

	p = skip_ws(p, end);
	if (p == end)
		return NULL;
	if (*p == '"')
		return skip_string(p, end);
	if (*p != '{' && *p != '[') {	/* number, true, false, null */
		const char *s = p;

		while (p < end && !strchr(",]} \t\r\n", *p))
			p++;
		return p > s ? p : NULL;
	}
	for (; p < end; p++) {
		if (*p == '"') {
			p = skip_string(p, end);
			if (!p)
				return NULL;
			p--;
		} else if (*p == '{' || *p == '[') {
			depth++;
		} else if ((*p == '}' || *p == ']') && !--depth) {
			return p + 1;
		}
	}
	return NULL;
}

const char *json_member(const char *p, const char *end, const char *key)
{
	size_t key_len = strlen(key);

	p = skip_ws(p, end);
	if (p == end || *p != '{')
		return NULL;
	p++;
	for (;;) {
		const char *k, *k_end;

		p = skip_ws(p, end);
		if (p == end || *p != '"')
			return NULL;
		k = p + 1;
		k_end = skip_string(p, end);
		if (!k_end)
			return NULL;
		p = skip_ws(k_end, end);
		if (p == end || *p != ':')
			return NULL;
		p = skip_ws(p + 1, end);
		/* keys of QMP's messages need no unescaping */
		if ((size_t)(k_end - 1 - k) == key_len &&
		    !memcmp(k, key, key_len))
			return p;
		p = json_skip(p, end);
		if (!p)
			return NULL;
		p = skip_ws(p, end);
		if (p == end || *p != ',')
			return NULL;
		p++;
	}
}

static int hex4(const char *p, const char *end)
{
	int v = 0, i;

	if (end - p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

static char *put_utf8(char *o, uint32_t c)
{
	if (c < 0x80) {
		*o++ = c;
	} else if (c < 0x800) {
		*o++ = 0xc0 | c >> 6;
		*o++ = 0x80 | (c & 0x3f);
	} else if (c < 0x10000) {
		*o++ = 0xe0 | c >> 12;
		*o++ = 0x80 | ((c >> 6) & 0x3f);
		*o++ = 0x80 | (c & 0x3f);
	} else {
		*o++ = 0xf0 | c >> 18;
		*o++ = 0x80 | ((c >> 12) & 0x3f);
		*o++ = 0x80 | ((c >> 6) & 0x3f);
		*o++ = 0x80 | (c & 0x3f);
	}
	return o;
}

char *json_string(const char *p, const char *end)
{
	const char *s_end;
	char *out, *o;

	p = skip_ws(p, end);
	if (p == end || *p != '"')
		return NULL;
	s_end = skip_string(p, end);
	if (!s_end)
		return NULL;
	/* no escape gives more bytes than it takes: \uXXXX is 3 at most */
	out = malloc(s_end - p);
	if (!out)
		return NULL;
	for (o = out, p++; p < s_end - 1; p++) {
		int c, lo;

		if (*p != '\\') {
			*o++ = *p;
			continue;
		}
		switch (*++p) {
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case 'u':
			c = hex4(p + 1, s_end - 1);
			if (c < 0) {
				free(out);
				return NULL;
			}
			p += 4;
			lo = -1;	/* the low half of a surrogate pair? */
			if (c >= 0xd800 && c < 0xdc00 && p[1] == '\\' &&
			    p[2] == 'u')
				lo = hex4(p + 3, s_end - 1);
			if (lo >= 0xdc00 && lo < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
				p += 6;
			} else if (!c || (c >= 0xd800 && c < 0xe000)) {
				c = 0xfffd;
			}
			o = put_utf8(o, c);
			break;
		default:	/* \" \\ \/ */
			*o++ = *p;
			break;
		}
	}
	*o = '\0';
	return out;
}

/* the number at p, or -1 */
static long json_long(const char *p, const char *end)
{
	long v = 0;

	p = skip_ws(p, end);
	if (p == end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9' && v < 1000000000L)
		v = v * 10 + (*p++ - '0');
	return v;
}

/* --- the connection ------------------------------------------------------- */

int qmp_open(struct qmp *q, const char *path, volatile sig_atomic_t *stop,
	     char *err, size_t err_size)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct stat st;

	memset(q, 0, sizeof(*q));
	q->fd = -1;
	q->path = path;
	q->start = -1;
	q->stop = stop;
	snprintf(q->tag, sizeof(q->tag), "physmapctl-%ld-", (long)getpid());
	if (stat(path, &st))
		return qfail(err, err_size, "%s: %s", path, strerror(errno));
	if (S_ISSOCK(st.st_mode)) {
		if (strlen(path) >= sizeof(sun.sun_path))
			return qfail(err, err_size, "%s: %s", path,
				     strerror(ENAMETOOLONG));
		strcpy(sun.sun_path, path);
		q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (q->fd < 0 ||
		    connect(q->fd, (struct sockaddr *)&sun, sizeof(sun))) {
			int e = errno;

			qmp_close(q);
			return qfail(err, err_size, "cannot connect to %s: %s",
				     path, strerror(e));
		}
	} else if (S_ISCHR(st.st_mode)) {
		struct termios t;

		q->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (q->fd < 0)
			return qfail(err, err_size, "cannot open %s: %s", path,
				     strerror(errno));
		if (!tcgetattr(q->fd, &t)) {	/* a terminal: no echo, no CRs */
			cfmakeraw(&t);
			tcsetattr(q->fd, TCSANOW, &t);
		}
	} else {
		return qfail(err, err_size,
			     "%s: neither a unix socket nor a character device (QEMU's -qmp unix:PATH,server=on, or a virtio-serial port)",
			     path);
	}
	return QMP_OK;
}

void qmp_close(struct qmp *q)
{
	struct qmp_event ev;

	while (qmp_next_event(q, &ev))
		qmp_event_free(&ev);
	if (q->fd >= 0)
		close(q->fd);
	q->fd = -1;
	free(q->buf);
	free(q->reply);
	free(q->events);
	q->buf = NULL;
	q->reply = NULL;
	q->events = NULL;
}

void qmp_event_free(struct qmp_event *ev)
{
	free(ev->name);
	free(ev->device);
	free(ev->path);
	memset(ev, 0, sizeof(*ev));
}

bool qmp_next_event(struct qmp *q, struct qmp_event *ev)
{
	if (!q->nevents)
		return false;
	*ev = q->events[0];
	memmove(q->events, q->events + 1, --q->nevents * sizeof(*ev));
	return true;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static int queue_event(struct qmp *q, const char *msg, const char *end,
		       const char *name)
{
	const char *data = json_member(msg, end, "data");
	struct qmp_event ev = { 0 };

	ev.name = json_string(name, end);
	if (!ev.name)
		return -1;
	if (data) {
		const char *v = json_member(data, end, "device");

		ev.device = v ? json_string(v, end) : NULL;
		v = json_member(data, end, "path");
		ev.path = v ? json_string(v, end) : NULL;
	}
	if (q->nevents == q->events_cap) {
		size_t cap = q->events_cap ? 2 * q->events_cap : 8;
		struct qmp_event *n = realloc(q->events, cap * sizeof(*n));

		if (!n) {
			qmp_event_free(&ev);
			return -1;
		}
		q->events = n;
		q->events_cap = cap;
	}
	q->events[q->nevents++] = ev;
	return 0;
}

/* one message: an event is queued, the reply to command id kept */
static int handle_message(struct qmp *q, const char *msg, const char *end,
			  const char *id)
{
	const char *v = json_member(msg, end, "event");
	char *got;
	bool ours;

	if (v)
		return queue_event(q, msg, end, v);
	if (!json_member(msg, end, "return") && !json_member(msg, end, "error"))
		return 0;	/* the greeting */
	v = json_member(msg, end, "id");
	got = v && id ? json_string(v, end) : NULL;
	ours = got && !strcmp(got, id);
	free(got);
	if (!ours)
		return 0;	/* a reply to someone else's command */
	free(q->reply);
	q->reply = strndup(msg, end - msg);
	return q->reply ? 0 : -1;
}

/* the complete messages in the buffer, handled and dropped */
static int scan_messages(struct qmp *q, const char *id)
{
	size_t i, done = 0;

	for (i = q->scan; i < q->len; i++) {
		char c = q->buf[i];

		if (q->start < 0) {
			if (c == '{') {
				q->start = i;
				q->depth = 1;
			} else {
				done = i + 1;	/* white space, or noise */
			}
			continue;
		}
		if (q->in_str) {
			if (q->esc)
				q->esc = false;
			else if (c == '\\')
				q->esc = true;
			else if (c == '"')
				q->in_str = false;
		} else if (c == '"') {
			q->in_str = true;
		} else if (c == '{' || c == '[') {
			q->depth++;
		} else if ((c == '}' || c == ']') && !--q->depth) {
			if (handle_message(q, q->buf + q->start, q->buf + i + 1,
					   id))
				return -1;
			q->start = -1;
			done = i + 1;
		}
	}
	memmove(q->buf, q->buf + done, q->len - done);
	q->len -= done;
	q->scan = q->len;
	if (q->start >= 0)
		q->start -= done;
	return 0;
}

/*
 * read what is there, waiting at most timeout_ms (-1: forever): QMP_OK
 * (something read, or the time is up), QMP_EOF, QMP_STOP, QMP_ERROR
 */
static int read_some(struct qmp *q, int timeout_ms, const char *id, char *err,
		     size_t err_size)
{
	struct pollfd pfd = { .fd = q->fd, .events = POLLIN };
	ssize_t n;
	int ret;

	if (q->stop && *q->stop)
		return QMP_STOP;
	ret = poll(&pfd, 1, timeout_ms);
	if (q->stop && *q->stop)
		return QMP_STOP;
	if (ret < 0 && errno == EINTR)
		return QMP_OK;
	if (ret < 0)
		return qfail(err, err_size, "poll %s: %s", q->path,
			     strerror(errno));
	if (!ret)
		return QMP_OK;
	if (q->cap - q->len < READ_CHUNK) {
		size_t cap = q->cap ? 2 * q->cap : 2 * READ_CHUNK;
		char *b = realloc(q->buf, cap);

		if (!b)
			return qfail(err, err_size, "%s", strerror(ENOMEM));
		q->buf = b;
		q->cap = cap;
	}
	n = read(q->fd, q->buf + q->len, q->cap - q->len);
	if (n < 0 && errno == EINTR)
		return q->stop && *q->stop ? QMP_STOP : QMP_OK;
	/* a terminal whose other side closed gives EIO */
	if (!n || (n < 0 && (errno == EIO || errno == ECONNRESET)))
		return QMP_EOF;
	if (n < 0)
		return qfail(err, err_size, "read %s: %s", q->path,
			     strerror(errno));
	q->len += n;
	if (scan_messages(q, id))
		return qfail(err, err_size, "%s", strerror(ENOMEM));
	return QMP_OK;
}

int qmp_wait(struct qmp *q, int timeout_ms, char *err, size_t err_size)
{
	return read_some(q, timeout_ms, NULL, err, err_size);
}

static int write_all(struct qmp *q, const char *s, size_t len, char *err,
		     size_t err_size)
{
	while (len) {
		ssize_t n = write(q->fd, s, len);

		if (n < 0 && errno == EINTR) {
			if (q->stop && *q->stop)
				return QMP_STOP;
			continue;
		}
		if (n < 0 && (errno == EPIPE || errno == ECONNRESET))
			return QMP_EOF;
		if (n <= 0)
			return qfail(err, err_size, "write %s: %s", q->path,
				     strerror(n < 0 ? errno : EIO));
		s += n;
		len -= n;
	}
	return QMP_OK;
}

int qmp_execute(struct qmp *q, const char *command, const char *arguments,
		char **ret, int timeout_ms, char *err, size_t err_size)
{
	const char *end, *v, *e;
	char id[64], *msg, *desc, *class;
	long deadline = now_ms() + timeout_ms;
	int r, n;

	*ret = NULL;
	q->err_class[0] = '\0';
	snprintf(id, sizeof(id), "%s%lu", q->tag, ++q->seq);
	n = asprintf(&msg, "{\"execute\":\"%s\"%s%s,\"id\":\"%s\"}\r\n",
		     command, arguments ? ",\"arguments\":" : "",
		     arguments ? arguments : "", id);
	if (n < 0)
		return qfail(err, err_size, "%s", strerror(ENOMEM));
	r = write_all(q, msg, n, err, err_size);
	free(msg);
	if (r)
		return r;
	free(q->reply);
	q->reply = NULL;
	while (!q->reply) {
		long left = deadline - now_ms();

		if (left <= 0)
			return qfail(err, err_size,
				     "%s: no reply from %s in %d s", command,
				     q->path, timeout_ms / 1000);
		r = read_some(q, left, id, err, err_size);
		if (r)
			return r;
	}
	end = q->reply + strlen(q->reply);
	v = json_member(q->reply, end, "return");
	if (v) {
		e = json_skip(v, end);
		*ret = e ? strndup(v, e - v) : NULL;
		return *ret ? QMP_OK :
		       qfail(err, err_size, "%s: bad reply", command);
	}
	v = json_member(q->reply, end, "error");
	e = v ? json_member(v, end, "desc") : NULL;
	desc = e ? json_string(e, end) : NULL;
	e = v ? json_member(v, end, "class") : NULL;
	class = e ? json_string(e, end) : NULL;
	snprintf(q->err_class, sizeof(q->err_class), "%s",
		 class ? class : "");
	qfail(err, err_size, "%s: %s (%s)", command,
	      desc ? desc : "error", class ? class : "no class");
	free(desc);
	free(class);
	return QMP_ERROR;
}

int qmp_handshake(struct qmp *q, int timeout_ms, char *err, size_t err_size)
{
	char *ret;
	int r = qmp_execute(q, "qmp_capabilities", NULL, &ret, timeout_ms, err,
			    err_size);

	free(ret);
	if (r == QMP_ERROR && !strcmp(q->err_class, "CommandNotFound"))
		return QMP_OK;	/* negotiated before, on this session */
	return r;
}

int qmp_hmp(struct qmp *q, const char *command_line, char **out,
	    int timeout_ms, char *err, size_t err_size)
{
	char *args, *ret;
	const char *c;
	size_t n = 0;
	int r;

	*out = NULL;
	/* the command line as a JSON string: '"' and '\' escaped */
	args = malloc(2 * strlen(command_line) + 32);
	if (!args)
		return qfail(err, err_size, "%s", strerror(ENOMEM));
	n = sprintf(args, "{\"command-line\":\"");
	for (c = command_line; *c; c++) {
		if (*c == '"' || *c == '\\')
			args[n++] = '\\';
		args[n++] = *c;
	}
	strcpy(args + n, "\"}");
	r = qmp_execute(q, "human-monitor-command", args, &ret, timeout_ms,
			err, err_size);
	free(args);
	if (r)
		return r;
	*out = json_string(ret, ret + strlen(ret));
	free(ret);
	if (!*out)
		return qfail(err, err_size,
			     "human-monitor-command: the reply is no string");
	return QMP_OK;
}

void qmp_version(struct qmp *q, char *buf, size_t size, int timeout_ms)
{
	char err[256], *ret;
	const char *qemu, *end;

	*buf = '\0';
	if (qmp_execute(q, "query-version", NULL, &ret, timeout_ms, err,
			sizeof(err)))
		return;
	end = ret + strlen(ret);
	qemu = json_member(ret, end, "qemu");
	if (qemu) {
		const char *ma = json_member(qemu, end, "major");
		const char *mi = json_member(qemu, end, "minor");
		const char *mc = json_member(qemu, end, "micro");

		if (ma && mi && mc)
			snprintf(buf, size, "%ld.%ld.%ld", json_long(ma, end),
				 json_long(mi, end), json_long(mc, end));
	}
	free(ret);
}
