package dev.swarmd.ingress;

import java.io.IOException;
import java.nio.channels.SelectableChannel;
import java.nio.channels.SelectionKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bound published port; the actor drives it, its event loop does the I/O. What TCP and UDP share:
 * the route table swapped under it, and registering with and leaving the loop.
 */
abstract class Listener implements EventLoop.Handler {
  private static final Logger LOG = LoggerFactory.getLogger(Listener.class);

  protected final EventLoop loop;
  private final SelectableChannel selectable;
  private final int ops;
  protected volatile RouteTable table;
  protected SelectionKey key;

  Listener(SelectableChannel selectable, int ops, EventLoop loop, RouteTable table) {
    this.selectable = selectable;
    this.ops = ops;
    this.loop = loop;
    this.table = table;
  }

  final RouteTable table() {
    return table;
  }

  /** Swaps what new connections or flows go to, without rebinding. */
  final void update(RouteTable table) {
    this.table = table;
  }

  /** Starts serving; the socket is already bound. */
  final void start() {
    loop.execute(() -> {
      try {
        key = loop.register(selectable, ops, this);
        started();
      } catch (IOException e) {
        LOG.warn("ingress: cannot serve {}/{}: {}", table.route().publishedPort(), table.route().protocol(),
            e.toString());
      }
    });
  }

  /** Runs on the loop once registered. */
  protected void started() {}

  /** Closes the listening socket; TCP connections already forwarded carry on. */
  final void unbind() {
    loop.execute(this::close);
  }
}
