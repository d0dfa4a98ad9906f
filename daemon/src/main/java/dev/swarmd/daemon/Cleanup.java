package dev.swarmd.daemon;

import dev.swarmd.ingress.Leftovers;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** `swarmd cleanup`: what a starting node does for nodes that are gone, for scripts that stop nodes. */
@Command(name = "cleanup", mixinStandardHelpOptions = true,
    description = "Removes from this host what swarmd nodes that are gone (killed, say) left: their nat chains and "
        + "the rules hooking them in, their loopback guards (and route_localnet where they turned it on), and the "
        + "virtual-IP route older versions added. Rules of running nodes stay. A node does this as it starts, too.")
final class Cleanup implements Callable<Integer> {
  @Override
  public Integer call() {
    Leftovers.sweep();
    return 0;
  }
}
