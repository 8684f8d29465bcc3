/*-------------------------------------------------------------------------
 *
 * fast_receiver.c
 *		A fast local webhook receiver for benchmarks: one thread, epoll,
 *		HTTP/1.1 keep-alive, answers every POST with 200 "ok" at once.
 *		webhook_receiver.py is the one with behaviours (failures, 429, slow
 *		answers, signature checks); this one only has to keep up, so that a
 *		delivery throughput figure measures the sender, not the receiver.
 *
 *		cc -O2 -o fast_receiver test/fakes/fast_receiver.c
 *		fast_receiver PORT [LOGFILE]
 *
 *		GET /count answers the number of POSTs received so far.  With
 *		LOGFILE, every POST adds a line "RECEIPT_TIME SENT" (seconds since the
 *		epoch, SENT the number after the first "sent": in the body, or -1),
 *		so a benchmark can compute latencies.
 *
 *-------------------------------------------------------------------------
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <unistd.h>

#define MAX_EVENTS 256
#define BUF_SIZE (1024 * 1024)

typedef struct Conn
{
	int			fd;
	size_t		len;			/* bytes in buf */
	char	   *buf;
} Conn;

static unsigned long long n_posts = 0;
static FILE *logf = NULL;

static double
now_seconds(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return tv.tv_sec + tv.tv_usec / 1e6;
}

static void
set_nonblocking(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL, 0) | O_NONBLOCK);
}

/* write all of s (small answers: the socket buffer takes them) */
static int
send_all(int fd, const char *s, size_t n)
{
	while (n > 0)
	{
		ssize_t		w = write(fd, s, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		s += w;
		n -= (size_t) w;
	}
	return 0;
}

/* find the value of a header (case-insensitive name) in [hdr, end) */
static long
content_length(const char *hdr, const char *end)
{
	const char *p = hdr;

	while (p < end)
	{
		const char *eol = memchr(p, '\n', end - p);

		if (eol == NULL)
			break;
		if (eol - p > 15 && strncasecmp(p, "Content-Length:", 15) == 0)
			return strtol(p + 15, NULL, 10);
		p = eol + 1;
	}
	return 0;
}

/*
 * handle the complete requests in c->buf; returns -1 to close the
 * connection
 */
static int
serve(Conn *c)
{
	static const char ok[] =
		"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
	char		out[65536];
	size_t		outlen = 0;
	size_t		off = 0;

	for (;;)
	{
		char	   *start = c->buf + off;
		char	   *hend;
		long		clen;
		size_t		total;

		if (c->len - off < 4)
			break;
		hend = memmem(start, c->len - off, "\r\n\r\n", 4);
		if (hend == NULL)
			break;
		clen = content_length(start, hend + 2);
		if (clen < 0 || clen > BUF_SIZE / 2)
			return -1;
		total = (size_t) (hend + 4 - start) + (size_t) clen;
		if (c->len - off < total)
			break;

		if (strncmp(start, "GET /count", 10) == 0)
		{
			char		body[32];
			int			bl = snprintf(body, sizeof(body), "%llu", n_posts);

			outlen += snprintf(out + outlen, sizeof(out) - outlen,
							   "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s",
							   bl, body);
		}
		else
		{
			n_posts++;
			if (logf)
			{
				double		sent = -1;
				char	   *b = hend + 4;
				char	   *s = memmem(b, clen, "\"sent\":", 7);

				if (s)
					sent = strtod(s + 7, NULL);
				fprintf(logf, "%.6f %.6f\n", now_seconds(), sent);
			}
			memcpy(out + outlen, ok, sizeof(ok) - 1);
			outlen += sizeof(ok) - 1;
		}
		off += total;
		if (outlen > sizeof(out) - 256)
		{
			if (send_all(c->fd, out, outlen) < 0)
				return -1;
			outlen = 0;
		}
	}
	if (outlen > 0 && send_all(c->fd, out, outlen) < 0)
		return -1;
	if (off > 0)
	{
		memmove(c->buf, c->buf + off, c->len - off);
		c->len -= off;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	int			lfd;
	int			ep;
	int			one = 1;
	struct sockaddr_in addr;
	struct epoll_event ev;
	struct epoll_event events[MAX_EVENTS];

	if (argc < 2)
	{
		fprintf(stderr, "usage: %s PORT [LOGFILE]\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (argc > 2 && (logf = fopen(argv[2], "a")) == NULL)
	{
		perror(argv[2]);
		return 1;
	}

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((unsigned short) atoi(argv[1]));
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *) &addr, sizeof(addr)) < 0 || listen(lfd, 1024) < 0)
	{
		perror("bind/listen");
		return 1;
	}
	set_nonblocking(lfd);
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.ptr = NULL;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	printf("listening on 127.0.0.1:%s\n", argv[1]);
	fflush(stdout);

	for (;;)
	{
		int			n = epoll_wait(ep, events, MAX_EVENTS, 1000);
		int			i;

		for (i = 0; i < n; i++)
		{
			Conn	   *c = events[i].data.ptr;

			if (c == NULL)
			{
				int			fd;

				while ((fd = accept(lfd, NULL, NULL)) >= 0)
				{
					set_nonblocking(fd);
					setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
					c = calloc(1, sizeof(Conn));
					c->fd = fd;
					c->buf = malloc(BUF_SIZE);
					ev.events = EPOLLIN;
					ev.data.ptr = c;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			for (;;)
			{
				ssize_t		r = read(c->fd, c->buf + c->len, BUF_SIZE - c->len);

				if (r > 0)
				{
					c->len += (size_t) r;
					if (serve(c) < 0 || c->len == BUF_SIZE)
						r = 0;
					else
						continue;
				}
				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				/* EOF, error or a request we will not serve: close */
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				free(c->buf);
				free(c);
				break;
			}
		}
		if (logf)
			fflush(logf);
	}
}
