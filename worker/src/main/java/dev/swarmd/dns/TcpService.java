package dev.swarmd.dns;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;

/**
 * DNS over TCP, which clients use after a truncated UDP answer: a thread per connection, as few
 * clients ever get there, answering its queries in turn and forwarding over TCP.
 */
final class TcpService {
  /** Connections served at once; one more is closed at once. */
  private static final int MAX_CONNECTIONS = 64;

  /** A connection idle this long is closed (RFC 7766 asks for seconds, not minutes). */
  private static final int IDLE_MILLIS = 10_000;

  private static final Logger LOG = LoggerFactory.getLogger(TcpService.class);

  private final ServerSocket server;
  private final Responder responder;
  private final Forwarder forwarder;
  private final ThreadPoolExecutor connections;
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final Thread thread;

  TcpService(ServerSocket server, Responder responder, Forwarder forwarder, String name) {
    this.server = server;
    this.responder = responder;
    this.forwarder = forwarder;
    this.connections = new ThreadPoolExecutor(MAX_CONNECTIONS, MAX_CONNECTIONS, 30, TimeUnit.SECONDS,
        new SynchronousQueue<>(), DnsServer.daemonThreads(name + "-conn"));
    connections.allowCoreThreadTimeOut(true);
    this.thread = new Thread(this::run, name);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  void close() {
    DnsServer.closeQuietly(server);
    connections.shutdownNow();
    // Threads blocked reading a socket wake up only when it is closed.
    open.forEach(DnsServer::closeQuietly);
    DnsServer.awaitEnd(thread);
  }

  private void run() {
    while (!server.isClosed()) {
      Socket socket;
      try {
        socket = server.accept();
      } catch (IOException e) {
        if (!server.isClosed()) {
          LOG.debug("dns: tcp accept on {} failed: {}", server.getLocalSocketAddress(), e.toString());
        }
        continue;
      }
      open.add(socket);
      try {
        connections.execute(() -> serve(socket));
      } catch (RejectedExecutionException e) {
        LOG.debug("dns: too many tcp connections; closed one from {}", socket.getRemoteSocketAddress());
        drop(socket);
      }
    }
  }

  private void serve(Socket socket) {
    try {
      socket.setSoTimeout(IDLE_MILLIS);
      DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
      DataOutputStream out = new DataOutputStream(new BufferedOutputStream(socket.getOutputStream()));
      byte[] wire;
      while ((wire = Framing.read(in)) != null) {
        Message query = Responder.parseQuery(wire);
        if (query == null) {
          LOG.debug("dns: malformed tcp query from {}; closing", socket.getRemoteSocketAddress());
          return;
        }
        Framing.write(out, respond(query, wire));
      }
    } catch (SocketTimeoutException e) {
      LOG.debug("dns: tcp connection from {} idle; closing", socket.getRemoteSocketAddress());
    } catch (IOException | RuntimeException e) {
      if (!server.isClosed()) {
        LOG.debug("dns: tcp connection from {} failed: {}", socket.getRemoteSocketAddress(), e.toString());
      }
    } finally {
      drop(socket);
    }
  }

  private byte[] respond(Message query, byte[] wire) {
    Message ours = responder.answer(query);
    if (ours != null) {
      return ours.toWire(Framing.MAX_MESSAGE);
    }
    byte[] reply = forwarder.ask(query, wire, true);
    return reply != null ? reply : Responder.reply(query, Rcode.SERVFAIL).toWire(Framing.MAX_MESSAGE);
  }

  private void drop(Socket socket) {
    open.remove(socket);
    DnsServer.closeQuietly(socket);
  }
}
