package dev.swarmd.protocol;

import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;

/** The messages between a worker's agent and the managers' dispatcher, across the cluster. */
public final class DispatcherProtocol {
  /** The managers' dispatcher registers under this key; workers find it through the receptionist. */
  public static final ServiceKey<Command> KEY = ServiceKey.create(Command.class, "swarm-dispatcher");

  private DispatcherProtocol() {}

  public interface Command extends CborSerializable {}

  /** A node's agent asks for its assignments; they come now and whenever they change. */
  public record Subscribe(String nodeId, ActorRef<Assignments> agent) implements Command {}

  public record Report(StatusReport report, ActorRef<Ack> replyTo) implements Command {}

  /** {@link Dispatcher#processEnded}, from a worker's agent; replyTo tells the manager where it comes from. */
  public record ProcessEnded(String nodeId, String taskId, ActorRef<Ack> replyTo) implements Command {}

  public record Assignments(List<TaskAssignment> tasks, List<IngressRoute> routes, List<ServiceName> names,
      String resolver, String subnet) implements CborSerializable {}

  public record Ack(boolean accepted) implements CborSerializable {}
}
