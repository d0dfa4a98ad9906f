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
  private RequestBody() {}

  public static CompletionStage<byte[]> read(HttpRequest request, long maxBytes, Duration timeout,
      ActorSystem<?> system) {
    return request.entity().withSizeLimit(maxBytes).getDataBytes()
        .completionTimeout(timeout)
        .runFold(ByteString.emptyByteString(), ByteString::concat, system)
        .handle((data, e) -> {
          if (e != null) {
            throw unreadable(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e, maxBytes,
                timeout);
          }
          return data.toArray();
        });
  }

  private static RuntimeException unreadable(Throwable e, long maxBytes, Duration timeout) {
    if (e instanceof EntityStreamSizeException) {
      return new ApiException(413, "request body is larger than the limit of " + maxBytes + " bytes");
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
