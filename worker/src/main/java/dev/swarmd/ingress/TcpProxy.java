package dev.swarmd.ingress;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.nio.channels.UnresolvedAddressException;
import java.nio.channels.UnsupportedAddressTypeException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection: connects to a backend (the next ones in turn if it fails), then copies bytes
 * both ways until each side has finished sending, passing half-closes along. Lives on one event loop.
 */
final class TcpProxy {
  private static final Logger LOG = LoggerFactory.getLogger(TcpProxy.class);
  private static final long CONNECT_TIMEOUT_MILLIS = 2000;

  private final EventLoop loop;
  private final RouteTable table;
  private final int first;
  private final End client;
  private End backend;
  private int attempts;
  private Connecting connecting;
  private boolean closed;

  TcpProxy(EventLoop loop, SocketChannel client, RouteTable table, int first) {
    this.loop = loop;
    this.table = table;
    this.first = first;
    this.client = new End(client);
  }

  void start() {
    try {
      client.channel.configureBlocking(false);
      client.channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
    } catch (IOException e) {
      abort();
      return;
    }
    connectNext();
  }

  /** Tries the backends from {@code first} on, each once; resets the client when none answers. */
  private void connectNext() {
    List<RouteTable.Target> targets = table.targets();
    while (attempts < targets.size()) {
      RouteTable.Target target = targets.get(Math.floorMod(first + attempts, targets.size()));
      attempts++;
      SocketChannel channel = null;
      boolean immediate;
      try {
        channel = SocketChannel.open(target.family());
        channel.configureBlocking(false);
        channel.setOption(StandardSocketOptions.TCP_NODELAY, true);
        // A connect to this very node (the common case on a small swarm) has completed by the time
        // connect() returns; finishing it at once saves a trip through the selector.
        immediate = channel.connect(target.address()) || channel.finishConnect();
        if (!immediate) {
          connecting = new Connecting(channel, target);
        }
      } catch (IOException | UnresolvedAddressException | UnsupportedAddressTypeException e) {
        Channels.closeQuietly(channel);
        LOG.debug("ingress {}: backend {} failed: {}", table.route().serviceName(), target.address(), e.toString());
        continue;
      }
      if (immediate) {
        connected(channel, null);
      }
      return;
    }
    LOG.debug("ingress {}: no backend answered", table.route().serviceName());
    abort();
  }

  private void connected(SocketChannel channel, SelectionKey connectKey) {
    backend = new End(channel);
    try {
      wire(connectKey);
    } catch (IOException e) {
      LOG.debug("ingress {}: connection failed: {}", table.route().serviceName(), e.toString());
      abort();
    }
  }

  private void wire(SelectionKey connectKey) throws IOException {
    Pipe up = new Pipe(client, backend);
    Pipe down = new Pipe(backend, client);
    up.other = down;
    down.other = up;
    client.in = up;
    client.out = down;
    backend.in = down;
    backend.out = up;
    client.key = loop.register(client.channel, 0, client);
    if (connectKey == null) {
      backend.key = loop.register(backend.channel, 0, backend);
    } else {
      connectKey.attach(backend);
      backend.key = connectKey;
    }
    client.setReading(true);
    backend.setReading(true);
    if (table.route().proxyProtocol()) {
      up.send(ProxyHeader.v2((InetSocketAddress) client.channel.getRemoteAddress(),
          (InetSocketAddress) client.channel.getLocalAddress()));
    }
  }

  /** Closes both sides at once, with resets: something failed, or the loop is shutting down. */
  private void abort() {
    if (closed) {
      return;
    }
    closed = true;
    if (connecting != null) {
      connecting.cancel();
    }
    client.release();
    Channels.reset(client.channel);
    if (backend != null) {
      backend.release();
      Channels.reset(backend.channel);
    }
  }

  /** Both directions are done: a normal close. */
  private void finish() {
    closed = true;
    client.release();
    backend.release();
    Channels.closeQuietly(client.channel);
    Channels.closeQuietly(backend.channel);
  }

  /** A backend connect in progress, with its timeout. */
  private final class Connecting implements EventLoop.Handler {
    private final SocketChannel channel;
    private final RouteTable.Target target;
    private final SelectionKey key;
    private final EventLoop.Timer timeout;

    Connecting(SocketChannel channel, RouteTable.Target target) throws IOException {
      this.channel = channel;
      this.target = target;
      this.key = loop.register(channel, SelectionKey.OP_CONNECT, this);
      this.timeout = loop.schedule(CONNECT_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS, this::timedOut);
    }

    @Override
    public void onReady(SelectionKey key) {
      try {
        if (!channel.finishConnect()) {
          return;
        }
      } catch (IOException e) {
        failed(e.toString());
        return;
      }
      timeout.cancel();
      connecting = null;
      connected(channel, key);
    }

    private void timedOut() {
      failed("connect timed out");
    }

    private void failed(String why) {
      LOG.debug("ingress {}: backend {} failed: {}", table.route().serviceName(), target.address(), why);
      cancel();
      connecting = null;
      connectNext();
    }

    void cancel() {
      timeout.cancel();
      key.cancel();
      Channels.closeQuietly(channel);
    }

    @Override
    public void close() {
      abort();
    }
  }

  /** One of the two sockets: the source of one pipe and the sink of the other. */
  private final class End implements EventLoop.Handler {
    private final SocketChannel channel;
    private SelectionKey key;
    private Pipe in;
    private Pipe out;
    private boolean reading;
    private boolean writing;

    End(SocketChannel channel) {
      this.channel = channel;
    }

    @Override
    public void onReady(SelectionKey key) {
      try {
        int ready = key.readyOps();
        if ((ready & SelectionKey.OP_WRITE) != 0) {
          out.flush();
        }
        if (!closed && (ready & SelectionKey.OP_READ) != 0) {
          in.pump();
        }
      } catch (IOException e) {
        LOG.debug("ingress {}: connection failed: {}", table.route().serviceName(), e.toString());
        abort();
      }
    }

    void setReading(boolean on) {
      reading = on;
      updateInterest();
    }

    void setWriting(boolean on) {
      writing = on;
      updateInterest();
    }

    private void updateInterest() {
      if (closed) {
        return;
      }
      int ops = (reading ? SelectionKey.OP_READ : 0) | (writing ? SelectionKey.OP_WRITE : 0);
      if (key.interestOps() != ops) {
        key.interestOps(ops);
      }
    }

    void release() {
      if (in != null) {
        in.release();
      }
    }

    @Override
    public void close() {
      abort();
    }
  }

  /** Bytes flowing one way. Reading stops while the sink cannot take more, so at most one buffer is held. */
  private final class Pipe {
    private final End from;
    private final End to;
    private Pipe other;
    private ByteBuffer pending;
    private boolean eof;
    private boolean done;

    Pipe(End from, End to) {
      this.from = from;
      this.to = to;
    }

    void pump() throws IOException {
      ByteBuffer buffer = loop.readBuffer();
      int n = from.channel.read(buffer);
      if (n < 0) {
        eof = true;
        from.setReading(false);
        if (pending == null) {
          shutdown();
        }
      } else if (n > 0) {
        send(buffer.flip());
      }
    }

    /** Writes what it can now and keeps the rest, pausing the source until it is out. */
    void send(ByteBuffer data) throws IOException {
      to.channel.write(data);
      if (data.hasRemaining()) {
        pending = loop.hold(data);
        from.setReading(false);
        to.setWriting(true);
      }
    }

    void flush() throws IOException {
      if (pending != null) {
        to.channel.write(pending);
        if (pending.hasRemaining()) {
          return;
        }
        loop.release(pending);
        pending = null;
      }
      to.setWriting(false);
      if (eof) {
        shutdown();
      } else {
        from.setReading(true);
      }
    }

    private void shutdown() throws IOException {
      to.channel.shutdownOutput();
      done = true;
      if (other.done) {
        finish();
      }
    }

    void release() {
      if (pending != null) {
        loop.release(pending);
        pending = null;
      }
    }
  }
}
