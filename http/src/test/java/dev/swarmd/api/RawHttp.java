package dev.swarmd.api;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 over a socket, one request per connection. Unlike java.net.http, it writes the body on its own
 * thread and reads the answer whatever becomes of the write: a server may answer and close before it has
 * read a body it refuses, which is the case under test.
 */
final class RawHttp {
  private final int port;

  RawHttp(int port) {
    this.port = port;
  }

  record Response(int status, Map<String, String> headers, String body) {
    String contentType() {
      return headers.get("content-type");
    }

    JsonNode json() {
      return Json.parse(body.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
      return status + " " + headers + " " + (body.length() > 500 ? body.substring(0, 500) + "..." : body);
    }
  }

  Response get(String path) {
    return exchange("GET", path, Map.of(), new byte[0]);
  }

  /** A JSON body with its Content-Length, as the docker CLI sends one. */
  Response post(String path, byte[] body) {
    return exchange("POST", path, Map.of("Content-Length", String.valueOf(body.length)), body);
  }

  Response post(String path, String body) {
    return post(path, body.getBytes(StandardCharsets.UTF_8));
  }

  /** A JSON body in 64 KiB chunks with no length given ahead, as a streaming client sends one. */
  Response postChunked(String path, byte[] body) {
    ByteArrayOutputStream chunked = new ByteArrayOutputStream();
    for (int at = 0; at < body.length; at += 65536) {
      int n = Math.min(65536, body.length - at);
      chunked.writeBytes((Integer.toHexString(n) + "\r\n").getBytes(StandardCharsets.US_ASCII));
      chunked.write(body, at, n);
      chunked.writeBytes("\r\n".getBytes(StandardCharsets.US_ASCII));
    }
    chunked.writeBytes("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
    return exchange("POST", path, Map.of("Transfer-Encoding", "chunked"), chunked.toByteArray());
  }

  private Response exchange(String method, String path, Map<String, String> headers, byte[] payload) {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(30_000);
      StringBuilder head = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Content-Type: application/json\r\nConnection: close\r\n");
      headers.forEach((k, v) -> head.append(k).append(": ").append(v).append("\r\n"));
      head.append("\r\n");
      OutputStream out = socket.getOutputStream();
      out.write(head.toString().getBytes(StandardCharsets.US_ASCII));
      Thread writer = new Thread(() -> {
        try {
          out.write(payload);
          out.flush();
        } catch (IOException e) {
          // the server answered without reading it all
        }
      });
      writer.start();
      Response r = read(socket.getInputStream());
      writer.join(30_000);
      return r;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static Response read(InputStream in) throws IOException {
    String status = line(in);
    Map<String, String> headers = new LinkedHashMap<>();
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      int colon = h.indexOf(':');
      headers.put(h.substring(0, colon).trim().toLowerCase(Locale.ROOT), h.substring(colon + 1).trim());
    }
    String length = headers.get("content-length");
    byte[] body = length == null ? in.readAllBytes() : in.readNBytes(Integer.parseInt(length));
    return new Response(Integer.parseInt(status.split(" ")[1]), headers, new String(body, StandardCharsets.UTF_8));
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int c = in.read(); c != '\n'; c = in.read()) {
      if (c < 0) {
        throw new IOException("connection closed mid-answer after " + b);
      }
      if (c != '\r') {
        b.write(c);
      }
    }
    return b.toString(StandardCharsets.US_ASCII);
  }
}
