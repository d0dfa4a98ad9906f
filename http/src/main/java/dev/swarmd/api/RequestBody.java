package dev.swarmd.api;

import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.scaladsl.model.EntityStreamException;
import org.apache.pekko.http.scaladsl.model.EntityStreamSizeException;
import org.apache.pekko.util.ByteString;

/**
 * A request's body, whole, read under a size limit and a timeout. A body the client got wrong fails as
 * an {@link ApiException} before any endpoint runs, so that it is a 4xx whatever the endpoint: too large
 * 413, stalled 408, cut short or badly chunked 400. The limit, set on the entity, overrides Pekko's
 * max-content-length.
 */
public final class RequestBody {
  /**
   * A body over the limit is still read, and thrown away, up to this many times the limit: a server that
   * stops reading and answers at once closes on unread bytes, and the kernel's reset can take the answer
   * with it, so the client sees a dropped connection rather than its 413.
   */
  private static final long DRAIN_FACTOR = 16;

  private RequestBody() {}

  /** What is kept of a body (its first maxBytes) and how long it is. */
  private record Partial(ByteString kept, long size, long maxBytes) {
    Partial add(ByteString chunk) {
      long now = size + chunk.size();
      return new Partial(now <= maxBytes ? kept.concat(chunk) : kept, now, maxBytes);
    }
  }

  public static CompletionStage<byte[]> read(HttpRequest request, long maxBytes, Duration timeout,
      ActorSystem<?> system) {
    return request.entity().withSizeLimit(maxBytes * DRAIN_FACTOR).getDataBytes()
        .completionTimeout(timeout)
        .runFold(new Partial(ByteString.emptyByteString(), 0, maxBytes), Partial::add, system)
        .handle((body, e) -> {
          if (e != null) {
            throw unreadable(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e, maxBytes,
                timeout);
          }
          if (body.size() > maxBytes) {
            throw tooLarge(maxBytes);
          }
          return body.kept().toArray();
        });
  }

  private static ApiException tooLarge(long maxBytes) {
    return new ApiException(413, "request body is larger than the limit of " + maxBytes + " bytes");
  }

  private static RuntimeException unreadable(Throwable e, long maxBytes, Duration timeout) {
    if (e instanceof EntityStreamSizeException) {
      return tooLarge(maxBytes);
    }
    if (e instanceof TimeoutException) {
      return new ApiException(408, "request body not received within " + timeout.toSeconds() + "s");
    }
    if (e instanceof EntityStreamException) {
      return ApiException.badRequest("unreadable request body: " + e.getMessage());
    }
    return new CompletionException(e);
  }
}
