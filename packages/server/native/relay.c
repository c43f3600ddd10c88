// The native relay of a chunked upstream answer (opt-in: ATELIER_NATIVE_RELAY=on). It reads the
// upstream socket and writes the client socket on Node's own event loop (a uv_poll on dup()'ed
// descriptors), one client write per upstream read, with the upstream's own chunk framing, and
// enters JavaScript once, at the end. It follows the framing as http1-framing.ts's ChunkedBody
// does (same states, same limits) and, like it, leaves the last chunk and trailers to whoever
// ends the relayed body. See native-relay.ts for the JavaScript side.
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#define READ_BYTES 65536
#define MAX_LINE_BYTES 4096
#define MAX_TRAILER_BYTES (16 * 1024)
#define MAX_SIZE_DIGITS 12
#define KEPT_BYTES (1024 * 1024)

enum state { SIZE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER, TRAILER_LF, FINAL_LF, DONE };
enum outcome { RUNNING, END, FAILED, ABORTED };

typedef struct relay {
  napi_env env;
  napi_ref callback;
  napi_async_context context;
  uv_poll_t upstream_poll, client_poll;
  uv_timer_t timer;
  int upstream_fd, client_fd;
  uint64_t timeout_ms;
  int keep_tail;
  /* Handles still to close, and whether JavaScript still holds the relay: freed when both are 0. */
  int open_handles;
  int held_by_js;
  enum outcome outcome;
  const char* reason;
  /* The framing, as ChunkedBody follows it. */
  enum state state;
  double size;
  int digits, line_bytes, trailer_bytes;
  /* A size line that a read split: held until it is whole (it may open the last chunk). */
  char* held;
  size_t held_length, held_capacity;
  /* Bytes for the client that it could not take yet. */
  char* out;
  size_t out_length, out_capacity, out_sent;
  /* The content's last KEPT_BYTES (a ring once full) and its total length. */
  char* tail;
  size_t tail_capacity, tail_at;
  double total;
  /* Bytes read past the body's end. */
  char* leftover;
  size_t leftover_length;
  char input[READ_BYTES];
} relay_t;

static int append(char** buffer, size_t* length, size_t* capacity, const char* bytes, size_t count) {
  if (*length + count > *capacity) {
    size_t next = *capacity ? *capacity : 256;
    while (next < *length + count) next *= 2;
    char* grown = realloc(*buffer, next);
    if (!grown) return -1;
    *buffer = grown;
    *capacity = next;
  }
  memcpy(*buffer + *length, bytes, count);
  *length += count;
  return 0;
}

static void keep_content(relay_t* r, const char* bytes, size_t count) {
  r->total += (double)count;
  if (!r->keep_tail || count == 0) return;
  if (count >= KEPT_BYTES) {
    bytes += count - KEPT_BYTES;
    count = KEPT_BYTES;
  }
  // Grows while the content is shorter than KEPT_BYTES; a ring of KEPT_BYTES after that.
  if (r->tail_capacity < KEPT_BYTES && r->tail_at + count > r->tail_capacity) {
    size_t next = r->tail_capacity ? r->tail_capacity : 16384;
    while (next < r->tail_at + count && next < KEPT_BYTES) next *= 2;
    if (next > KEPT_BYTES) next = KEPT_BYTES;
    char* grown = realloc(r->tail, next);
    if (!grown) {
      r->keep_tail = 0;
      return;
    }
    r->tail = grown;
    r->tail_capacity = next;
  }
  while (count > 0) {
    size_t at = r->tail_at % r->tail_capacity;
    size_t room = r->tail_capacity - at;
    size_t piece = count < room ? count : room;
    memcpy(r->tail + at, bytes, piece);
    r->tail_at += piece;
    bytes += piece;
    count -= piece;
  }
}

static int hex_value(unsigned char byte) {
  if (byte >= '0' && byte <= '9') return byte - '0';
  unsigned char lower = byte | 0x20;
  if (lower >= 'a' && lower <= 'f') return lower - 'a' + 10;
  return -1;
}

/*
 * Reads `length` bytes of the body; sets `*framed_end` to how many of them go to the client (after
 * `out`, where the held start of a size line goes once the line proves ordinary), and returns the index just past the
 * body's end, -1 while it goes on, -2 on bad framing (r->reason says why).
 */
static long feed(relay_t* r, const char* bytes, size_t length, size_t* framed_end) {
  size_t index = 0;
  long last_chunk_at = -1;
  long line_start = r->state == SIZE && r->digits == 0 ? 0 : -1;
#define BAD(message) \
  do {               \
    r->reason = "framing:" message; \
    return -2;       \
  } while (0)
  while (index < length && r->state != DONE) {
    switch (r->state) {
      case DATA: {
        size_t take = length - index;
        if ((double)take > r->size) take = (size_t)r->size;
        keep_content(r, bytes + index, take);
        r->size -= (double)take;
        index += take;
        if (r->size == 0) r->state = DATA_CR;
        break;
      }
      case SIZE: {
        unsigned char byte = bytes[index++];
        int digit = hex_value(byte);
        if (digit >= 0) {
          if (++r->digits > MAX_SIZE_DIGITS) BAD("chunk size too large");
          r->size = r->size * 16 + digit;
        } else if (r->digits == 0) BAD("bad chunk size");
        else if (byte == '\r') r->state = SIZE_LF;
        else if (byte == ';' || byte == ' ' || byte == '\t') r->state = EXTENSION;
        else BAD("bad chunk size");
        r->line_bytes++;
        break;
      }
      case EXTENSION: {
        unsigned char byte = bytes[index++];
        if (byte == '\r') r->state = SIZE_LF;
        else if (byte == '\n' || byte == 0) BAD("bad chunk extension");
        if (++r->line_bytes > MAX_LINE_BYTES) BAD("chunk extension too long");
        break;
      }
      case SIZE_LF:
        if (bytes[index++] != '\n') BAD("bad chunk size line");
        if (r->size == 0) {
          // The last chunk: what follows (trailers, blank line) is not handed on.
          last_chunk_at = line_start;
          r->held_length = 0;
          r->state = TRAILER_START;
        } else {
          if (r->held_length > 0) {
            // The line turned out to open an ordinary chunk: its start goes first.
            if (append(&r->out, &r->out_length, &r->out_capacity, r->held, r->held_length) < 0)
              BAD("out of memory");
            r->held_length = 0;
          }
          r->state = DATA;
        }
        r->digits = 0;
        r->line_bytes = 0;
        break;
      case DATA_CR:
        if (bytes[index++] != '\r') BAD("chunk longer than its size");
        r->state = DATA_LF;
        break;
      case DATA_LF:
        if (bytes[index++] != '\n') BAD("chunk longer than its size");
        r->state = SIZE;
        r->size = 0;
        line_start = (long)index;
        break;
      case TRAILER_START:
      case TRAILER: {
        unsigned char byte = bytes[index++];
        if (byte == '\r') r->state = r->state == TRAILER_START ? FINAL_LF : TRAILER_LF;
        else if (byte == '\n' || byte == 0) BAD("bad trailer");
        else r->state = TRAILER;
        if (++r->trailer_bytes > MAX_TRAILER_BYTES) BAD("trailers too long");
        break;
      }
      case TRAILER_LF:
        if (bytes[index++] != '\n') BAD("bad trailer");
        r->state = TRAILER_START;
        break;
      case FINAL_LF:
        if (bytes[index++] != '\n') BAD("bad end of body");
        r->state = DONE;
        break;
      case DONE:
        break;
    }
  }
#undef BAD
  if (r->state >= TRAILER_START) *framed_end = last_chunk_at > 0 ? (size_t)last_chunk_at : 0;
  else if (r->state == SIZE && r->digits == 0) *framed_end = length;
  else if (r->state <= SIZE_LF) {
    // Ends inside a size line: what precedes it goes, the rest is held until the line is whole.
    size_t start = line_start >= 0 ? (size_t)line_start : 0;
    *framed_end = start;
    if (append(&r->held, &r->held_length, &r->held_capacity, bytes + start, length - start) < 0) {
      r->reason = "framing:out of memory";
      return -2;
    }
  } else *framed_end = length;
  return r->state == DONE ? (long)index : -1;
}

static void free_relay(relay_t* r) {
  free(r->held);
  free(r->out);
  free(r->tail);
  free(r->leftover);
  free(r);
}

static void free_unstarted_relay(relay_t* r) {
  if (r->upstream_fd >= 0) close(r->upstream_fd);
  if (r->client_fd >= 0) close(r->client_fd);
  free(r);
}

static void free_unstarted(uv_handle_t* handle) {
  free_unstarted_relay(handle->data);
}

static void handle_closed(uv_handle_t* handle) {
  relay_t* r = handle->data;
  if (--r->open_handles == 0 && !r->held_by_js) free_relay(r);
}

static void finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  relay_t* r = data;
  r->held_by_js = 0;
  if (r->outcome != RUNNING && r->open_handles == 0) free_relay(r);
}

static void stop_at_teardown(void* data);

/* Closes the relay's handles and descriptors (closing a poll handle takes its descriptor out of
 * the loop's epoll set at once). */
static void close_relay(relay_t* r) {
  uv_close((uv_handle_t*)&r->upstream_poll, handle_closed);
  uv_close((uv_handle_t*)&r->client_poll, handle_closed);
  uv_close((uv_handle_t*)&r->timer, handle_closed);
  close(r->upstream_fd);
  close(r->client_fd);
}

/*
 * Ends the relay: stops and closes its handles and descriptors, then tells JavaScript once. From
 * `abort` (JavaScript on the stack) an exception of the callback is left to its caller; from the
 * loop, it is Node's uncaught exception.
 */
static void finish_relay(relay_t* r, enum outcome outcome, const char* reason, int from_js) {
  if (r->outcome != RUNNING) return;
  r->outcome = outcome;
  r->reason = reason;
  napi_remove_env_cleanup_hook(r->env, stop_at_teardown, r);
  close_relay(r);
  napi_env env = r->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, receiver, argv[6];
  napi_get_reference_value(env, r->callback, &callback);
  napi_get_global(env, &receiver);
  napi_create_string_utf8(env, outcome == END ? "end" : outcome == FAILED ? "failed" : "aborted", NAPI_AUTO_LENGTH,
                          &argv[0]);
  napi_create_string_utf8(env, reason ? reason : "", NAPI_AUTO_LENGTH, &argv[1]);
  size_t kept = r->keep_tail && r->tail ? (r->tail_at < r->tail_capacity ? r->tail_at : r->tail_capacity) : 0;
  void* data;
  napi_create_buffer(env, kept, &data, &argv[2]);
  if (kept > 0) {
    if (r->tail_at <= r->tail_capacity) memcpy(data, r->tail, kept);
    else {
      size_t at = r->tail_at % r->tail_capacity;
      memcpy(data, r->tail + at, r->tail_capacity - at);
      memcpy((char*)data + (r->tail_capacity - at), r->tail, at);
    }
  }
  napi_create_double(env, r->total, &argv[3]);
  napi_create_buffer_copy(env, r->leftover_length, r->leftover ? r->leftover : "", &data, &argv[4]);
  // At the end, what a slow client had not taken yet: the caller sends it on through Node.
  size_t unsent = outcome == END ? r->out_length - r->out_sent : 0;
  napi_create_buffer_copy(env, unsent, unsent > 0 ? r->out + r->out_sent : "", &data, &argv[5]);
  napi_status status = napi_make_callback(env, r->context, receiver, callback, 6, argv, NULL);
  if (status == napi_pending_exception && !from_js) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
  napi_delete_reference(env, r->callback);
  napi_async_destroy(env, r->context);
  napi_close_handle_scope(env, scope);
}

static void finish(relay_t* r, enum outcome outcome, const char* reason) {
  finish_relay(r, outcome, reason, 0);
}

/* The environment is going away (a worker ends) with the relay running: closed, JavaScript untold. */
static void stop_at_teardown(void* data) {
  relay_t* r = data;
  if (r->outcome != RUNNING) return;
  r->outcome = ABORTED;
  close_relay(r);
}

static void on_client_writable(uv_poll_t* handle, int status, int events);
static void on_upstream_readable(uv_poll_t* handle, int status, int events);
static void restart_timer(relay_t* r);

/* Sends what the client has not taken yet; 1 when all went, 0 when it must wait, -1 on failure. */
static int flush(relay_t* r) {
  while (r->out_sent < r->out_length) {
    ssize_t sent = send(r->client_fd, r->out + r->out_sent, r->out_length - r->out_sent, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (sent < 0) return -1;
    r->out_sent += (size_t)sent;
  }
  r->out_length = r->out_sent = 0;
  return 1;
}

/* The client is behind: stop reading the upstream (and its silence timer) until it catches up. */
static void wait_for_client(relay_t* r) {
  uv_poll_stop(&r->upstream_poll);
  uv_timer_stop(&r->timer);
  uv_poll_start(&r->client_poll, UV_WRITABLE, on_client_writable);
}

static void on_client_writable(uv_poll_t* handle, int status, int events) {
  (void)events;
  relay_t* r = handle->data;
  if (status < 0) {
    finish(r, FAILED, "client");
    return;
  }
  int flushed = flush(r);
  if (flushed < 0) {
    finish(r, FAILED, "client");
    return;
  }
  if (flushed == 0) return;
  uv_poll_stop(&r->client_poll);
  uv_poll_start(&r->upstream_poll, UV_READABLE, on_upstream_readable);
  restart_timer(r);
}

static void on_upstream_readable(uv_poll_t* handle, int status, int events) {
  (void)events;
  relay_t* r = handle->data;
  if (status < 0) {
    finish(r, FAILED, "closed");
    return;
  }
  ssize_t count;
  do count = read(r->upstream_fd, r->input, READ_BYTES);
  while (count < 0 && errno == EINTR);
  if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (count <= 0) {
    finish(r, FAILED, "closed");
    return;
  }
  restart_timer(r);
  size_t framed_end;
  long end = feed(r, r->input, (size_t)count, &framed_end);
  if (end == -2) {
    finish(r, FAILED, r->reason);
    return;
  }
  // One write per read: the held start of a size line that proved ordinary (in `out`, which is
  // otherwise empty while the upstream is read), then this read's framed bytes.
  size_t held_sent = r->out_length;
  size_t wanted = held_sent + framed_end;
  if (wanted > 0) {
    struct iovec parts[2];
    int part_count = 0;
    if (held_sent > 0) parts[part_count++] = (struct iovec){.iov_base = r->out, .iov_len = held_sent};
    if (framed_end > 0) parts[part_count++] = (struct iovec){.iov_base = r->input, .iov_len = framed_end};
    struct msghdr message = {.msg_iov = parts, .msg_iovlen = (size_t)part_count};
    ssize_t sent;
    do sent = sendmsg(r->client_fd, &message, MSG_NOSIGNAL);
    while (sent < 0 && errno == EINTR);
    if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      finish(r, FAILED, "client");
      return;
    }
    size_t taken = sent < 0 ? 0 : (size_t)sent;
    if (taken >= wanted) r->out_length = r->out_sent = 0;
    else {
      // The rest waits in `out` for when the client can take it.
      size_t from = 0;
      if (taken < held_sent) r->out_sent = taken;
      else {
        r->out_length = r->out_sent = 0;
        from = taken - held_sent;
      }
      if (append(&r->out, &r->out_length, &r->out_capacity, r->input + from, framed_end - from) < 0) {
        finish(r, FAILED, "client");
        return;
      }
    }
  }
  if (end >= 0) {
    if ((size_t)end < (size_t)count) {
      r->leftover_length = (size_t)count - (size_t)end;
      r->leftover = malloc(r->leftover_length);
      if (r->leftover) memcpy(r->leftover, r->input + end, r->leftover_length);
      else r->leftover_length = 0;
    }
    // Bytes the client has not taken yet go back with the end (see finish): the upstream
    // connection is free at the body's end, as on the JavaScript path.
    finish(r, END, NULL);
    return;
  }
  if (r->out_length > 0) wait_for_client(r);
}

static void on_timeout(uv_timer_t* handle) {
  finish(handle->data, FAILED, "timeout");
}

static void restart_timer(relay_t* r) {
  if (r->timeout_ms > 0) uv_timer_start(&r->timer, on_timeout, r->timeout_ms, 0);
}

/* relay(upstreamFd, clientFd, timeoutMs, keepTail, done) → a handle for abort(). */
static napi_value Relay(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 5) {
    napi_throw_type_error(env, NULL, "relay(upstreamFd, clientFd, timeoutMs, keepTail, done)");
    return NULL;
  }
  int32_t upstream_fd, client_fd;
  double timeout_ms;
  bool keep_tail;
  if (napi_get_value_int32(env, argv[0], &upstream_fd) != napi_ok ||
      napi_get_value_int32(env, argv[1], &client_fd) != napi_ok ||
      napi_get_value_double(env, argv[2], &timeout_ms) != napi_ok ||
      napi_get_value_bool(env, argv[3], &keep_tail) != napi_ok) {
    napi_throw_type_error(env, NULL, "bad arguments");
    return NULL;
  }
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return NULL;
  relay_t* r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  r->env = env;
  r->timeout_ms = timeout_ms > 0 && timeout_ms < 1e15 ? (uint64_t)timeout_ms : 0;
  r->keep_tail = keep_tail;
  // Close-on-exec, as Node's own: a child process started meanwhile must not hold the sockets open.
  r->upstream_fd = fcntl(upstream_fd, F_DUPFD_CLOEXEC, 0);
  r->client_fd = fcntl(client_fd, F_DUPFD_CLOEXEC, 0);
  int upstream_polled =
      r->upstream_fd >= 0 && r->client_fd >= 0 && uv_poll_init(loop, &r->upstream_poll, r->upstream_fd) == 0;
  if (!upstream_polled || uv_poll_init(loop, &r->client_poll, r->client_fd) != 0) {
    // Nothing began: the caller relays in JavaScript instead. A handle already in the loop's list
    // is closed first; the relay is freed once it is.
    if (upstream_polled) {
      r->upstream_poll.data = r;
      uv_close((uv_handle_t*)&r->upstream_poll, free_unstarted);
    } else free_unstarted_relay(r);
    napi_throw_error(env, NULL, "the native relay could not start");
    return NULL;
  }
  uv_timer_init(loop, &r->timer);
  r->upstream_poll.data = r->client_poll.data = r->timer.data = r;
  r->open_handles = 3;
  r->held_by_js = 1;
  napi_value name;
  napi_create_string_utf8(env, "AtelierNativeRelay", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->context);
  napi_create_reference(env, argv[4], 1, &r->callback);
  napi_add_env_cleanup_hook(env, stop_at_teardown, r);
  uv_poll_start(&r->upstream_poll, UV_READABLE, on_upstream_readable);
  restart_timer(r);
  napi_value handle;
  napi_create_external(env, r, finalize, NULL, &handle);
  return handle;
}

/* abort(handle): stops a relay still running (its done callback hears 'aborted'). */
static napi_value Abort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  void* data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) return NULL;
  finish_relay(data, ABORTED, NULL, 1);
  return NULL;
}

NAPI_MODULE_INIT() {
  napi_value relay, abort_relay;
  napi_create_function(env, "relay", NAPI_AUTO_LENGTH, Relay, NULL, &relay);
  napi_create_function(env, "abort", NAPI_AUTO_LENGTH, Abort, NULL, &abort_relay);
  napi_set_named_property(env, exports, "relay", relay);
  napi_set_named_property(env, exports, "abort", abort_relay);
  return exports;
}
