package dev.swarmd.ingress;

import dev.swarmd.protocol.IngressRoute;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** A blocking test server on loopback, a thread per connection. */
final class TcpBackend implements AutoCloseable {
  interface Session {
    void serve(Socket socket) throws IOException;
  }

  private final String name;
  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();

  TcpBackend(String name, Session session) throws IOException {
    this.name = name;
    this.server = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"));
    threads.execute(() -> acceptLoop(session));
  }

  /** Answers each line {@code l} with {@code name:l}. */
  static TcpBackend lines(String name) throws IOException {
    return new TcpBackend(name, socket -> {
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      OutputStream out = socket.getOutputStream();
      String line;
      while ((line = in.readLine()) != null) {
        out.write((name + ":" + line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
      }
    });
  }

  IngressRoute.Backend backend() {
    return new IngressRoute.Backend("task-" + name, "127.0.0.1", port());
  }

  int port() {
    return server.getLocalPort();
  }

  String name() {
    return name;
  }

  private void acceptLoop(Session session) {
    while (!server.isClosed()) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        return;
      }
      sockets.add(socket);
      threads.execute(() -> {
        try (socket) {
          session.serve(socket);
        } catch (IOException e) {
          // The client went away; nothing to serve.
        }
      });
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
    threads.shutdownNow();
  }
}
