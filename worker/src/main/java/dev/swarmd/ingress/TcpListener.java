package dev.swarmd.ingress;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Accepts on one published TCP port and hands each connection to a {@link TcpProxy}. */
final class TcpListener extends Listener {
  private static final Logger LOG = LoggerFactory.getLogger(TcpListener.class);
  private static final int BACKLOG = 1024;
  private static final int ACCEPT_BATCH = 64;
  /** After an accept error (out of file descriptors, mostly), pause rather than spin on it. */
  private static final long ACCEPT_PAUSE_MILLIS = 100;

  private final ServerSocketChannel channel;
  private final List<EventLoop> workers;
  private int nextBackend;
  private int nextWorker;

  private TcpListener(ServerSocketChannel channel, EventLoop loop, List<EventLoop> workers, RouteTable table) {
    super(channel, SelectionKey.OP_ACCEPT, loop, table);
    this.channel = channel;
    this.workers = workers;
  }

  /** Binds now, on the caller's thread, so that a port in use is known at once. */
  static TcpListener bind(InetSocketAddress address, RouteTable table, EventLoop loop, List<EventLoop> workers)
      throws IOException {
    ServerSocketChannel channel = ServerSocketChannel.open();
    try {
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(address, BACKLOG);
      channel.configureBlocking(false);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    return new TcpListener(channel, loop, workers, table);
  }

  @Override
  public void close() {
    if (key != null) {
      key.cancel();
    }
    Channels.closeQuietly(channel);
  }

  @Override
  public void onReady(SelectionKey key) {
    for (int i = 0; i < ACCEPT_BATCH; i++) {
      SocketChannel client;
      try {
        client = channel.accept();
      } catch (IOException e) {
        pauseAccepting(e);
        return;
      }
      if (client == null) {
        return;
      }
      dispatch(client);
    }
  }

  private void dispatch(SocketChannel client) {
    RouteTable current = table;
    if (current.targets().isEmpty()) {
      Channels.reset(client);
      return;
    }
    int first = nextBackend;
    nextBackend = (nextBackend + 1) & Integer.MAX_VALUE;
    EventLoop worker = workers.get(nextWorker);
    nextWorker = (nextWorker + 1) % workers.size();
    if (worker == loop) {
      new TcpProxy(worker, client, current, first).start();
    } else {
      worker.execute(() -> new TcpProxy(worker, client, current, first).start());
    }
  }

  private void pauseAccepting(IOException e) {
    LOG.warn("ingress: accept on {}/tcp failed, pausing {} ms: {}", table.route().publishedPort(),
        ACCEPT_PAUSE_MILLIS, e.toString());
    key.interestOps(0);
    loop.schedule(ACCEPT_PAUSE_MILLIS, TimeUnit.MILLISECONDS, () -> {
      if (key.isValid()) {
        key.interestOps(SelectionKey.OP_ACCEPT);
      }
    });
  }
}
