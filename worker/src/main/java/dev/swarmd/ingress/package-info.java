/**
 * The routing mesh's data plane: {@link dev.swarmd.ingress.Ingress}, one per node, serves every
 * published port and forwards to the service's tasks (no IPVS, no overlay): through the kernel's
 * nat table ({@link dev.swarmd.ingress.KernelPath}) where the node may write it, else, and for
 * PROXY protocol ports, in user space.
 *
 * <p>User space: plain NIO rather than Pekko Streams TCP: measured with wrk (2 threads, 32 connections) on the
 * 2-core project machine, a Streams proxy reached half to two thirds of the throughput of this one
 * with keep-alive, and a third with a connection per request. This one matches haproxy in TCP mode
 * on the same set-up; both spend some 90% of their CPU in the kernel, so what is left to gain is
 * fewer socket calls, not faster Java. The bytes stay in direct buffers: a loop reads into one
 * scratch buffer and writes it straight on, and only the unwritten rest of a short write is copied
 * aside, so an idle connection holds no buffer.
 */
package dev.swarmd.ingress;
