// The native relay of a chunked upstream answer. It reads the upstream socket and writes the
// client socket on a thread of its own (one per Node environment, one epoll set for all relays),
// one client write per upstream read, with the upstream's own chunk framing, and enters JavaScript
// once, at the end. Neither a chunk's wake-up nor its write waits for Node's event loop, so streams
// flow at the same pace while JavaScript is busy with other requests. It follows the framing as
// http1-framing.ts's ChunkedBody does (same states, same limits) and, like it, leaves the last
// chunk and trailers to whoever ends the relayed body. See native-relay.ts for the JavaScript side.
//
// Ownership: a running relay belongs to the thread, which changes it only while it holds the
// thread's lock. It leaves the thread's hands in one of two ways, each under the lock: the thread
// ends it (the body's end, a failure, the silence timeout) and passes it to the JavaScript thread
// through a thread-safe function, which frees it after telling JavaScript; or JavaScript aborts it
// (the client left), which closes its descriptors at once and leaves it on a list the thread frees
// at the end of its next batch of events (that batch may still name it; the relay then is no
// longer running and is skipped). Its descriptors are dup()s, out of the epoll set before they are
// closed, so Node's own sockets are untouched.
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define READ_BYTES 65536
#define MAX_LINE_BYTES 4096
#define MAX_TRAILER_BYTES (16 * 1024)
#define MAX_SIZE_DIGITS 12
#define KEPT_BYTES (1024 * 1024)
#define BATCH 64
#define NO_DEADLINE UINT64_MAX

enum state { SIZE, EXTENSION, SIZE_LF, DATA, DATA_CR, DATA_LF, TRAILER_START, TRAILER, TRAILER_LF, FINAL_LF, DONE };
enum outcome { RUNNING, END, FAILED, ABORTED };

typedef struct relay_thread relay_thread_t;

typedef struct relay {
  relay_thread_t* thread;
  /* The thread's list of running relays (for the silence timer, abort and teardown). */
  struct relay *previous, *next;
  /* What abort() names it by: a number, never a pointer JavaScript could keep past its end. */
  double id;
  napi_ref callback;
  napi_async_context context;
  int upstream_fd, client_fd;
  uint64_t timeout_ms;
  /* When the upstream's silence ends the relay (ms, CLOCK_MONOTONIC); NO_DEADLINE while the
   * client is the one behind, or without a timeout. */
  uint64_t deadline;
  int keep_tail;
  int waiting_for_client;
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
} relay_t;

struct relay_thread {
  pthread_t thread;
  pthread_mutex_t lock;
  int epoll_fd, wake_fd;
  int stopping;
  /* Ended relays, to their callbacks on the JavaScript thread. */
  napi_threadsafe_function done;
  /* JavaScript thread only: relays whose callback has not run yet (the loop is kept alive while
   * there are any). */
  int pending;
  double next_id;
  relay_t* running;
  relay_t* dead;
  napi_env env;
  /* The earliest a running relay's deadline may come (the thread looks then). */
  uint64_t next_check;
  char input[READ_BYTES];
};

/* The epoll data of a relay's client descriptor is its address with the low bit set. */
#define CLIENT_SIDE 1u
#define WAKE_TAG 0u

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

static uint64_t now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000;
}

static void free_relay(relay_t* r) {
  free(r->held);
  free(r->out);
  free(r->tail);
  free(r->leftover);
  free(r);
}

static void wake(relay_thread_t* t) {
  uint64_t one = 1;
  ssize_t written;
  do written = write(t->wake_fd, &one, sizeof one);
  while (written < 0 && errno == EINTR);
}

static void unlink_relay(relay_t* r) {
  relay_thread_t* t = r->thread;
  if (r->previous) r->previous->next = r->next;
  else t->running = r->next;
  if (r->next) r->next->previous = r->previous;
  r->previous = r->next = NULL;
}

/* Out of the epoll set (a dup()'s registration outlives its close while Node holds the socket),
 * then closed. Lock held. */
static void close_descriptors(relay_t* r) {
  epoll_ctl(r->thread->epoll_fd, EPOLL_CTL_DEL, r->waiting_for_client ? r->client_fd : r->upstream_fd, NULL);
  close(r->upstream_fd);
  close(r->client_fd);
}

/* The thread ends a relay (lock held): it leaves the thread for its callback on the JavaScript thread. */
static void finish(relay_t* r, enum outcome outcome, const char* reason) {
  if (r->outcome != RUNNING) return;
  r->outcome = outcome;
  r->reason = reason;
  close_descriptors(r);
  unlink_relay(r);
  if (napi_call_threadsafe_function(r->thread->done, r, napi_tsfn_nonblocking) != napi_ok) {
    // The environment is going away: nobody to tell.
    r->next = r->thread->dead;
    r->thread->dead = r;
  }
}

static void set_deadline(relay_t* r, uint64_t deadline) {
  r->deadline = deadline;
  if (deadline < r->thread->next_check) r->thread->next_check = deadline;
}

static void restart_timer(relay_t* r) {
  if (r->timeout_ms > 0) set_deadline(r, now_ms() + r->timeout_ms);
}

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

/* The client is behind: stop reading the upstream (and its silence timer) until it catches up. Out
 * of the epoll set meanwhile (with no events asked, a hang-up would still be reported, at every wait). */
static int wait_for_client(relay_t* r) {
  struct epoll_event client = {.events = EPOLLOUT, .data.u64 = (uint64_t)(uintptr_t)r | CLIENT_SIDE};
  if (epoll_ctl(r->thread->epoll_fd, EPOLL_CTL_DEL, r->upstream_fd, NULL) < 0) return -1;
  r->waiting_for_client = 1;
  if (epoll_ctl(r->thread->epoll_fd, EPOLL_CTL_ADD, r->client_fd, &client) < 0) return -1;
  r->deadline = NO_DEADLINE;
  return 0;
}

static void on_client_writable(relay_t* r) {
  int flushed = flush(r);
  if (flushed < 0) {
    finish(r, FAILED, "client");
    return;
  }
  if (flushed == 0) return;
  struct epoll_event upstream = {.events = EPOLLIN, .data.u64 = (uint64_t)(uintptr_t)r};
  epoll_ctl(r->thread->epoll_fd, EPOLL_CTL_DEL, r->client_fd, NULL);
  r->waiting_for_client = 0;
  if (epoll_ctl(r->thread->epoll_fd, EPOLL_CTL_ADD, r->upstream_fd, &upstream) < 0) {
    finish(r, FAILED, "closed");
    return;
  }
  restart_timer(r);
}

static void on_upstream_readable(relay_t* r) {
  char* input = r->thread->input;
  ssize_t count;
  do count = read(r->upstream_fd, input, READ_BYTES);
  while (count < 0 && errno == EINTR);
  if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (count <= 0) {
    finish(r, FAILED, "closed");
    return;
  }
  size_t framed_end;
  long end = feed(r, input, (size_t)count, &framed_end);
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
    if (framed_end > 0) parts[part_count++] = (struct iovec){.iov_base = input, .iov_len = framed_end};
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
      if (append(&r->out, &r->out_length, &r->out_capacity, input + from, framed_end - from) < 0) {
        finish(r, FAILED, "client");
        return;
      }
    }
  }
  if (end >= 0) {
    if ((size_t)end < (size_t)count) {
      r->leftover_length = (size_t)count - (size_t)end;
      r->leftover = malloc(r->leftover_length);
      if (r->leftover) memcpy(r->leftover, input + end, r->leftover_length);
      else r->leftover_length = 0;
    }
    // Bytes the client has not taken yet go back with the end (see tell): the upstream
    // connection is free at the body's end, as on the JavaScript path.
    finish(r, END, NULL);
    return;
  }
  if (r->out_length > 0) {
    if (wait_for_client(r) < 0) finish(r, FAILED, "client");
  } else restart_timer(r);
}

/* Ends the relays whose upstream fell silent for too long; finds when to look again. Lock held. */
static void check_deadlines(relay_thread_t* t) {
  uint64_t now = now_ms();
  if (now < t->next_check) return;
  t->next_check = NO_DEADLINE;
  relay_t* r = t->running;
  while (r) {
    relay_t* next = r->next;
    if (r->deadline <= now) finish(r, FAILED, "timeout");
    else if (r->deadline < t->next_check) t->next_check = r->deadline;
    r = next;
  }
}

static void* run_thread(void* data) {
  relay_thread_t* t = data;
  struct epoll_event events[BATCH];
  pthread_mutex_lock(&t->lock);
  while (!t->stopping) {
    uint64_t next_check = t->next_check;
    pthread_mutex_unlock(&t->lock);
    int timeout = -1;
    if (next_check != NO_DEADLINE) {
      uint64_t now = now_ms();
      timeout = next_check <= now ? 0 : next_check - now > INT32_MAX ? INT32_MAX : (int)(next_check - now);
    }
    int count = epoll_wait(t->epoll_fd, events, BATCH, timeout);
    pthread_mutex_lock(&t->lock);
    if (t->stopping) break;
    for (int index = 0; index < count; index++) {
      uint64_t tag = events[index].data.u64;
      if (tag == WAKE_TAG) {
        uint64_t ignored;
        ssize_t got = read(t->wake_fd, &ignored, sizeof ignored);
        (void)got;
        continue;
      }
      relay_t* r = (relay_t*)(uintptr_t)(tag & ~(uint64_t)CLIENT_SIDE);
      if (r->outcome != RUNNING) continue;
      if (tag & CLIENT_SIDE) on_client_writable(r);
      else on_upstream_readable(r);
    }
    check_deadlines(t);
    // Aborted relays: no event of a later batch can name them.
    while (t->dead) {
      relay_t* r = t->dead;
      t->dead = r->next;
      free_relay(r);
    }
  }
  pthread_mutex_unlock(&t->lock);
  return NULL;
}

/*
 * Tells JavaScript how a relay ended and frees it. JavaScript thread, the relay in no list. From
 * abort (JavaScript on the stack) an exception of the callback is left to its caller; otherwise it
 * is Node's uncaught exception.
 */
static void tell(napi_env env, relay_t* r, int from_js) {
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value callback, receiver, argv[6];
  napi_get_reference_value(env, r->callback, &callback);
  napi_get_global(env, &receiver);
  enum outcome outcome = r->outcome;
  napi_create_string_utf8(env, outcome == END ? "end" : outcome == FAILED ? "failed" : "aborted", NAPI_AUTO_LENGTH,
                          &argv[0]);
  napi_create_string_utf8(env, r->reason ? r->reason : "", NAPI_AUTO_LENGTH, &argv[1]);
  size_t kept = r->keep_tail && r->tail ? (r->tail_at < r->tail_capacity ? r->tail_at : r->tail_capacity) : 0;
  void* data = NULL;
  relay_thread_t* t = r->thread;
  // Fails when JavaScript can no longer run (a worker being torn down): nothing to tell then.
  if (napi_create_buffer(env, kept, &data, &argv[2]) != napi_ok) {
    if (--t->pending == 0) napi_unref_threadsafe_function(env, t->done);
    goto release;
  }
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
  if (--t->pending == 0) napi_unref_threadsafe_function(env, t->done);
  napi_status status = napi_make_callback(env, r->context, receiver, callback, 6, argv, NULL);
  if (status == napi_pending_exception && !from_js) {
    napi_value error;
    napi_get_and_clear_last_exception(env, &error);
    napi_fatal_exception(env, error);
  }
release:
  napi_delete_reference(env, r->callback);
  napi_async_destroy(env, r->context);
  napi_close_handle_scope(env, scope);
}

/* The thread-safe function's call: a relay the thread ended. */
static void on_done(napi_env env, napi_value js_callback, void* context, void* data) {
  (void)js_callback;
  (void)context;
  relay_t* r = data;
  if (env == NULL) {
    // Torn down with the environment: nothing to tell.
    free_relay(r);
    return;
  }
  // The batch that ended it is over once the lock is free: no event can name it after that.
  pthread_mutex_lock(&r->thread->lock);
  pthread_mutex_unlock(&r->thread->lock);
  tell(env, r, 0);
  free_relay(r);
}

/* The environment goes away (a worker ends, or the process without process.exit): the thread
 * stops, relays still running are closed and freed, JavaScript untold. */
static void stop_thread(void* data) {
  relay_thread_t* t = data;
  if (!t) return;
  pthread_mutex_lock(&t->lock);
  t->stopping = 1;
  pthread_mutex_unlock(&t->lock);
  wake(t);
  pthread_join(t->thread, NULL);
  while (t->running) {
    relay_t* r = t->running;
    close_descriptors(r);
    unlink_relay(r);
    napi_delete_reference(t->env, r->callback);
    napi_async_destroy(t->env, r->context);
    free_relay(r);
  }
  while (t->dead) {
    relay_t* r = t->dead;
    t->dead = r->next;
    free_relay(r);
  }
  close(t->epoll_fd);
  close(t->wake_fd);
  pthread_mutex_destroy(&t->lock);
  free(t);
}

/* The environment's relay thread, started with its first relay. */
static relay_thread_t* relay_thread(napi_env env) {
  relay_thread_t* t = NULL;
  if (napi_get_instance_data(env, (void**)&t) == napi_ok && t) return t;
  t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->next_check = NO_DEADLINE;
  t->next_id = 1;
  t->env = env;
  t->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  t->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  struct epoll_event woken = {.events = EPOLLIN, .data.u64 = WAKE_TAG};
  napi_value name;
  napi_create_string_utf8(env, "AtelierNativeRelay", NAPI_AUTO_LENGTH, &name);
  if (t->epoll_fd < 0 || t->wake_fd < 0 || epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, t->wake_fd, &woken) < 0 ||
      pthread_mutex_init(&t->lock, NULL) != 0) {
    if (t->epoll_fd >= 0) close(t->epoll_fd);
    if (t->wake_fd >= 0) close(t->wake_fd);
    free(t);
    return NULL;
  }
  if (napi_create_threadsafe_function(env, NULL, NULL, name, 0, 1, NULL, NULL, NULL, on_done, &t->done) != napi_ok) {
    close(t->epoll_fd);
    close(t->wake_fd);
    pthread_mutex_destroy(&t->lock);
    free(t);
    return NULL;
  }
  napi_unref_threadsafe_function(env, t->done);
  // Signals stay with Node's own threads.
  sigset_t all, previous;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &previous);
  int started = pthread_create(&t->thread, NULL, run_thread, t);
  pthread_sigmask(SIG_SETMASK, &previous, NULL);
  if (started != 0) {
    napi_release_threadsafe_function(t->done, napi_tsfn_abort);
    close(t->epoll_fd);
    close(t->wake_fd);
    pthread_mutex_destroy(&t->lock);
    free(t);
    return NULL;
  }
  pthread_setname_np(t->thread, "atelier-relay");
  // Added after the thread-safe function was made: clean-up hooks run in the reverse order of
  // their registration, so the thread has stopped before that function is torn down.
  napi_add_env_cleanup_hook(env, stop_thread, t);
  napi_set_instance_data(env, t, NULL, NULL);
  return t;
}

/* relay(upstreamFd, clientFd, timeoutMs, keepTail, done) → a number for abort(). */
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
  relay_thread_t* t = relay_thread(env);
  relay_t* r = t ? calloc(1, sizeof *r) : NULL;
  if (!r) {
    napi_throw_error(env, NULL, "the native relay could not start");
    return NULL;
  }
  r->thread = t;
  r->timeout_ms = timeout_ms > 0 && timeout_ms < 1e15 ? (uint64_t)timeout_ms : 0;
  r->deadline = NO_DEADLINE;
  r->keep_tail = keep_tail;
  // Close-on-exec, as Node's own: a child process started meanwhile must not hold the sockets open.
  r->upstream_fd = fcntl(upstream_fd, F_DUPFD_CLOEXEC, 0);
  r->client_fd = r->upstream_fd >= 0 ? fcntl(client_fd, F_DUPFD_CLOEXEC, 0) : -1;
  if (r->client_fd < 0) {
    // Nothing began: the caller relays in JavaScript instead.
    if (r->upstream_fd >= 0) close(r->upstream_fd);
    free(r);
    napi_throw_error(env, NULL, "the native relay could not start");
    return NULL;
  }
  pthread_mutex_lock(&t->lock);
  struct epoll_event upstream = {.events = EPOLLIN, .data.u64 = (uint64_t)(uintptr_t)r};
  if (epoll_ctl(t->epoll_fd, EPOLL_CTL_ADD, r->upstream_fd, &upstream) < 0) {
    pthread_mutex_unlock(&t->lock);
    close(r->upstream_fd);
    close(r->client_fd);
    free(r);
    napi_throw_error(env, NULL, "the native relay could not start");
    return NULL;
  }
  r->id = t->next_id++;
  r->next = t->running;
  if (r->next) r->next->previous = r;
  t->running = r;
  uint64_t next_check = t->next_check;
  restart_timer(r);
  // The thread sleeps until its earliest deadline: a nearer one wakes it.
  if (t->next_check < next_check) wake(t);
  napi_create_reference(env, argv[4], 1, &r->callback);
  napi_value name, id;
  napi_create_string_utf8(env, "AtelierNativeRelay", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &r->context);
  napi_create_double(env, r->id, &id);
  pthread_mutex_unlock(&t->lock);
  if (t->pending++ == 0) napi_ref_threadsafe_function(env, t->done);
  return id;
}

/* abort(id): stops a relay still running (its done callback hears 'aborted' before abort returns);
 * one that already ended is told as it ended, soon after. */
static napi_value Abort(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  double id;
  relay_thread_t* t = NULL;
  if (argc < 1 || napi_get_value_double(env, argv[0], &id) != napi_ok ||
      napi_get_instance_data(env, (void**)&t) != napi_ok || !t)
    return NULL;
  pthread_mutex_lock(&t->lock);
  relay_t* r = t->running;
  while (r && r->id != id) r = r->next;
  if (r) {
    r->outcome = ABORTED;
    close_descriptors(r);
    unlink_relay(r);
  }
  pthread_mutex_unlock(&t->lock);
  if (!r) return NULL;
  // The thread no longer changes it (it is not running), but an event of its current batch may
  // still name it: told here, freed by the thread after that batch.
  tell(env, r, 1);
  pthread_mutex_lock(&t->lock);
  r->next = t->dead;
  t->dead = r;
  pthread_mutex_unlock(&t->lock);
  wake(t);
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
