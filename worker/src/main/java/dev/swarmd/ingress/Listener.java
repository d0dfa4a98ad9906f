package dev.swarmd.ingress;

/** A bound published port; the actor drives it, its event loop does the I/O. */
interface Listener {
  RouteTable table();

  /** Swaps what new connections or flows go to, without rebinding. */
  void update(RouteTable table);

  /** Starts serving; the socket is already bound. */
  void start();

  /** Closes the listening socket; TCP connections already forwarded carry on. */
  void unbind();
}
