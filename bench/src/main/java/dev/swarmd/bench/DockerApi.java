package dev.swarmd.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Just enough of the Docker Engine API for versioned service writes, against swarmd (tcp://) or the
 * engine itself (unix://): the same client code for every target, so that the client's own cost is the
 * same on each side of a comparison.
 *
 * <p>A plain HTTP/1.1 client over one kept-alive connection, used by one thread at a time: what a
 * benchmark needs to see is every answer as it came. Apache HttpClient (under docker-java's transport)
 * retries a 503 by itself after a second, which would hide a refused write and add that second to a
 * failover. A failed call (no connection, a timeout, a connection closed mid-answer) comes back as
 * status 0 and drops the connection; the next call opens a new one. Nothing is ever retried here.
 */
final class DockerApi implements Closeable {
  /** The API version dockerd 20.10 speaks and the docker CLI sends; swarmd accepts any. */
  private static final String PREFIX = "/v1.41";
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Closes the connection of a call that outlives its timeout, which ends its blocked read. */
  private static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "http-timeout");
    t.setDaemon(true);
    return t;
  });

  /** A status and the body as text (Docker's error bodies are {"message": ...}). */
  record Response(int status, String body) {
    boolean ok() {
      return status == 200 || status == 201;
    }

    /** "503 The swarm does not have a leader..." on one line, for a failure summary. */
    String summary() {
      String msg = body;
      try {
        JsonNode m = JSON.readTree(body).get("message");
        if (m != null) {
          msg = m.asText();
        }
      } catch (IOException | RuntimeException e) {
        // not JSON: the raw text will do
      }
      msg = msg.replaceAll("\\s+", " ").trim();
      return status + " " + (msg.length() > 120 ? msg.substring(0, 120) + "..." : msg);
    }
  }

  /** What a versioned update needs: the version the write is based on, and the spec to change. */
  record ServiceState(long version, ObjectNode spec) {}

  private final URI host;
  private final Duration timeout;
  private SocketChannel channel;
  private InputStream in;

  /** host: tcp://ADDR:PORT or unix:///path; timeout: the most one call may take. */
  DockerApi(String host, Duration timeout) {
    this.host = URI.create(host);
    this.timeout = timeout;
    if (!this.host.getScheme().equals("tcp") && !this.host.getScheme().equals("unix")) {
      throw new IllegalArgumentException("not a tcp:// or unix:// address: " + host);
    }
  }

  /** One request, one answer; an I/O failure or a timeout comes back as status 0. */
  Response call(String method, String path, JsonNode body) {
    AtomicBoolean timedOut = new AtomicBoolean();
    ScheduledFuture<?> guard = null;
    try {
      byte[] payload = body == null ? new byte[0] : JSON.writeValueAsBytes(body);
      connect();
      SocketChannel ch = channel;
      guard = WATCHDOG.schedule(() -> {
        timedOut.set(true);
        closeQuietly(ch);
      }, timeout.toMillis(), TimeUnit.MILLISECONDS);
      String head = method + " " + PREFIX + path + " HTTP/1.1\r\n"
          + "Host: " + (host.getScheme().equals("tcp") ? host.getAuthority() : "docker") + "\r\n"
          + (body == null ? "" : "Content-Type: application/json\r\n")
          + "Content-Length: " + payload.length + "\r\n\r\n";
      ByteBuffer request = ByteBuffer.allocate(head.length() + payload.length);
      request.put(head.getBytes(StandardCharsets.ISO_8859_1)).put(payload).flip();
      while (request.hasRemaining()) {
        ch.write(request);
      }
      return read();
    } catch (IOException | RuntimeException e) {
      disconnect();
      String why = timedOut.get() ? "no answer within " + timeout.toSeconds() + " s"
          : e.getClass().getSimpleName() + ": " + e.getMessage();
      return new Response(0, why);
    } finally {
      if (guard != null) {
        guard.cancel(false);
      }
    }
  }

  private void connect() throws IOException {
    if (channel != null) {
      return;
    }
    if (host.getScheme().equals("unix")) {
      channel = SocketChannel.open(UnixDomainSocketAddress.of(host.getPath()));
    } else {
      channel = SocketChannel.open(new InetSocketAddress(host.getHost(), host.getPort()));
      // Request and answer are small: sent at once, not held back for an acknowledgement.
      channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    }
    in = new BufferedInputStream(Channels.newInputStream(channel), 16 * 1024);
  }

  /** Status line, headers, then a body of Content-Length bytes, in chunks, or up to the end. */
  private Response read() throws IOException {
    String[] status = line().split(" ", 3);
    if (status.length < 2 || !status[0].startsWith("HTTP/1.")) {
      throw new IOException("not an HTTP answer: " + String.join(" ", status));
    }
    int code = Integer.parseInt(status[1]);
    long length = -1;
    boolean chunked = false;
    boolean close = status[0].equals("HTTP/1.0");
    for (String h = line(); !h.isEmpty(); h = line()) {
      int colon = h.indexOf(':');
      String name = h.substring(0, Math.max(colon, 0)).trim().toLowerCase(Locale.ROOT);
      String value = h.substring(colon + 1).trim().toLowerCase(Locale.ROOT);
      switch (name) {
        case "content-length" -> length = Long.parseLong(value);
        case "transfer-encoding" -> chunked = value.contains("chunked");
        case "connection" -> close = value.contains("close") || (close && !value.contains("keep-alive"));
        default -> { }
      }
    }
    byte[] body;
    if (code == 204 || code == 304) {
      body = new byte[0];
    } else if (chunked) {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      for (int size = chunkSize(); size > 0; size = chunkSize()) {
        b.write(exactly(size));
        line();
      }
      while (!line().isEmpty()) {
        // trailers, if any
      }
      body = b.toByteArray();
    } else if (length >= 0) {
      body = exactly((int) length);
    } else {
      body = in.readAllBytes();
      close = true;
    }
    if (close) {
      disconnect();
    }
    return new Response(code, new String(body, StandardCharsets.UTF_8));
  }

  private int chunkSize() throws IOException {
    String l = line();
    int semi = l.indexOf(';');
    return Integer.parseInt((semi < 0 ? l : l.substring(0, semi)).trim(), 16);
  }

  private byte[] exactly(int n) throws IOException {
    byte[] b = in.readNBytes(n);
    if (b.length < n) {
      throw new EOFException("connection closed after " + b.length + " of " + n + " bytes");
    }
    return b;
  }

  /** One header line, without its CR LF. */
  private String line() throws IOException {
    StringBuilder b = new StringBuilder();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new EOFException("connection closed by the server");
      }
      if (c != '\r') {
        b.append((char) c);
      }
    }
    return b.toString();
  }

  private void disconnect() {
    closeQuietly(channel);
    channel = null;
    in = null;
  }

  private static void closeQuietly(SocketChannel ch) {
    try {
      if (ch != null) {
        ch.close();
      }
    } catch (IOException e) {
      // closing is all that was asked
    }
  }

  /** GET /services/{id}: its Version.Index and Spec, as the CLI reads them before an update. */
  ServiceState inspect(String id) throws ApiError {
    Response r = call("GET", "/services/" + id, null);
    if (!r.ok()) {
      throw new ApiError(r);
    }
    JsonNode s;
    try {
      s = JSON.readTree(r.body());
    } catch (IOException e) {
      throw new ApiError(new Response(r.status(), "unreadable service: " + e.getMessage()));
    }
    if (!(s.get("Spec") instanceof ObjectNode spec) || !s.path("Version").path("Index").canConvertToLong()) {
      throw new ApiError(new Response(r.status(), "no Spec or Version.Index in: " + r.body()));
    }
    return new ServiceState(s.path("Version").path("Index").asLong(), spec);
  }

  /**
   * POST /services/{id}/update?version=N with the spec's label key set to value: a change of the
   * service alone (its tasks' spec is untouched, so no task is replaced), acknowledged once the
   * swarm has committed it.
   */
  Response updateLabel(String id, ServiceState s, String key, String value) {
    ObjectNode spec = s.spec().deepCopy();
    JsonNode labels = spec.get("Labels");
    ObjectNode l = labels instanceof ObjectNode o ? o : spec.putObject("Labels");
    l.put(key, value);
    return call("POST", "/services/" + id + "/update?version=" + s.version(), spec);
  }

  /** GET + POST: one versioned label update, as `docker service update --label-add` makes it. */
  Response updateOnce(String id, String key, String value) {
    try {
      return updateLabel(id, inspect(id), key, value);
    } catch (ApiError e) {
      return e.response();
    }
  }

  /**
   * POST /services/create: a replicated service of image running args. Through the API no image is
   * resolved in a registry (the CLI is what does that, unless --no-resolve-image).
   */
  String createService(String name, String image, int replicas, List<String> args) throws ApiError {
    ObjectNode spec = JSON.createObjectNode();
    spec.put("Name", name);
    spec.putObject("Labels");
    ObjectNode cs = spec.putObject("TaskTemplate").putObject("ContainerSpec");
    cs.put("Image", image);
    args.forEach(cs.putArray("Args")::add);
    spec.putObject("Mode").putObject("Replicated").put("Replicas", replicas);
    Response r = call("POST", "/services/create", spec);
    if (!r.ok()) {
      throw new ApiError(r);
    }
    try {
      return JSON.readTree(r.body()).get("ID").asText();
    } catch (IOException | RuntimeException e) {
      throw new ApiError(new Response(r.status(), "no ID in the answer: " + r.body()));
    }
  }

  Response removeService(String id) {
    return call("DELETE", "/services/" + id, null);
  }

  @Override
  public void close() {
    disconnect();
  }

  /** A call that was not answered 2xx. */
  static final class ApiError extends Exception {
    private final Response response;

    ApiError(Response response) {
      super(response.summary());
      this.response = response;
    }

    Response response() {
      return response;
    }
  }

  /** Counts of failure summaries, for one line on stderr ("503 ... x12; 0 ConnectException... x1"). */
  static String tally(Map<String, Integer> failures) {
    StringBuilder b = new StringBuilder();
    failures.forEach((k, v) -> b.append(b.length() == 0 ? "" : "; ").append(k).append(" x").append(v));
    return b.toString();
  }
}
