using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Flare.Routing.Routing;

namespace Flare.Web.Gateway;

/// <summary>What the upstream handler needs to know about the attempt it is serving.</summary>
internal sealed class AttemptContext
{
    public static readonly HttpRequestOptionsKey<AttemptContext> Key = new("flare.attempt");

    public required DeploymentTarget Target { get; init; }
    public required bool IsLast { get; init; }
    public required bool Stream { get; init; }
    public required CancellationToken ClientAborted { get; init; }
    public long SendStarted { get; set; }

    /// <summary>The status that made this attempt give way to the next deployment, if any.</summary>
    public int? RetryableStatus { get; set; }

    /// <summary>Set when the stream broke after it began; the client got an SSE error event.</summary>
    public string? MidStreamError { get; set; }
}

/// <summary>Thrown (and caught by the forwarder) to move a request that failed before its first byte to the next deployment.</summary>
internal sealed class RetryableUpstreamException(int status) : HttpRequestException($"Upstream answered {status}; trying the next deployment.")
{
    public int Status { get; } = status;
}

/// <summary>
/// Sits between the forwarder and each deployment's connection pool: turns a retryable answer (429,
/// 5xx) into an exception while another deployment can still be tried, wraps every relayed error in
/// OpenAI's shape, and guards streams so that a broken stream ends with an SSE error event instead of
/// silently stopping.
/// </summary>
internal sealed class UpstreamGuardHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private const int MaxErrorBodyBytes = 64 * 1024;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        var response = await base.SendAsync(request, ct);
        if (!request.Options.TryGetValue(AttemptContext.Key, out var attempt))
        {
            return response;
        }

        var status = (int)response.StatusCode;
        if ((status == 429 || status >= 500) && !attempt.IsLast)
        {
            attempt.RetryableStatus = status;
            response.Dispose();
            throw new RetryableUpstreamException(status);
        }

        if (status >= 400)
        {
            var body = await ReadBoundedAsync(response.Content, ct);
            if (!OpenAIError.IsOpenAIShaped(body))
            {
                var wrapped = new ByteArrayContent(OpenAIError.WrapUpstream(status, body, attempt.Target.Name));
                wrapped.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                response.Content.Dispose();
                response.Content = wrapped;
            }
            else
            {
                var kept = new ByteArrayContent(body);
                kept.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                response.Content.Dispose();
                response.Content = kept;
            }

            return response;
        }

        if (attempt.Stream && response.Content.Headers.ContentType?.MediaType == "text/event-stream")
        {
            response.Content = new SseGuardContent(response.Content, attempt);
        }

        return response;
    }

    private static async Task<byte[]> ReadBoundedAsync(HttpContent content, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        var buffer = new byte[MaxErrorBodyBytes];
        var total = 0;
        int n;
        while (total < buffer.Length && (n = await stream.ReadAsync(buffer.AsMemory(total), ct)) > 0)
        {
            total += n;
        }

        return buffer[..total];
    }
}

/// <summary>One pooled connection handler per deployment (recreated when its base URL changes).</summary>
public sealed class UpstreamClientPool : IDisposable
{
    private readonly ConcurrentDictionary<int, (string BaseUrl, HttpMessageInvoker Invoker)> _clients = new();
    private readonly TimeSpan _connectTimeout;

    public UpstreamClientPool(Microsoft.Extensions.Options.IOptions<GatewayOptions> options) =>
        _connectTimeout = TimeSpan.FromSeconds(Math.Min(10, options.Value.UpstreamTimeoutSeconds));

    public HttpMessageInvoker Get(DeploymentTarget target)
    {
        if (_clients.TryGetValue(target.Id, out var entry) && entry.BaseUrl == target.BaseUrl)
        {
            return entry.Invoker;
        }

        var created = (target.BaseUrl, new HttpMessageInvoker(new UpstreamGuardHandler(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            ConnectTimeout = _connectTimeout,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(60),
            PooledConnectionLifetime = TimeSpan.FromMinutes(10),
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = null,
        }), disposeHandler: true));
        var stored = _clients.AddOrUpdate(target.Id, created, (id, old) =>
        {
            if (old.BaseUrl == target.BaseUrl)
            {
                created.Item2.Dispose();
                return old;
            }

            // Requests may still be using the old pool; let them finish before it closes.
            _ = Task.Delay(TimeSpan.FromMinutes(2)).ContinueWith(_ => old.Invoker.Dispose(), TaskScheduler.Default);
            return created;
        });
        return stored.Invoker;
    }

    public void Dispose()
    {
        foreach (var (_, invoker) in _clients.Values)
        {
            invoker.Dispose();
        }
    }
}

/// <summary>Wraps a streamed response body so that a broken stream ends with an OpenAI error event.</summary>
internal sealed class SseGuardContent : HttpContent
{
    private readonly HttpContent _inner;
    private readonly AttemptContext _attempt;

    public SseGuardContent(HttpContent inner, AttemptContext attempt)
    {
        _inner = inner;
        _attempt = attempt;
        foreach (var header in inner.Headers)
        {
            if (!string.Equals(header.Key, "Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }
    }

    protected override async Task<Stream> CreateContentReadStreamAsync() =>
        new SseGuardStream(await _inner.ReadAsStreamAsync(), _attempt);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
    {
        await using var guarded = await CreateContentReadStreamAsync();
        await guarded.CopyToAsync(stream);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

/// <summary>
/// Passes SSE bytes through unchanged and watches for <c>data: [DONE]</c>. If the backend's stream
/// breaks (connection reset, premature end, idle timeout) or ends without <c>[DONE]</c>, it ends the
/// stream with one <c>data: {"error":…}</c> event, which OpenAI SDKs raise as an API error.
/// </summary>
internal sealed class SseGuardStream(Stream inner, AttemptContext attempt) : Stream
{
    private static readonly byte[] Done = "data: [DONE]"u8.ToArray();

    private readonly byte[] _tail = new byte[Done.Length];
    private int _tailLength;
    private bool _sawDone;
    private byte[]? _pending;
    private int _pendingOffset;
    private bool _finished;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_pending is not null)
        {
            return DrainPending(buffer.Span);
        }

        if (_finished)
        {
            return 0;
        }

        int n;
        try
        {
            n = await inner.ReadAsync(buffer, ct);
        }
        catch (Exception ex) when (!attempt.ClientAborted.IsCancellationRequested && ex is IOException or HttpRequestException or OperationCanceledException)
        {
            return Fail(buffer.Span, ex is OperationCanceledException
                ? $"Deployment '{attempt.Target.Name}' stopped sending in the middle of the stream (idle timeout)."
                : $"Deployment '{attempt.Target.Name}' closed the connection in the middle of the stream.",
                ex is OperationCanceledException ? "upstream_timeout" : "upstream_disconnected");
        }

        if (n == 0 && buffer.Length > 0)
        {
            // A zero-byte read (YARP waits for data that way) is not the end of the stream; this is.
            _finished = true;
            return _sawDone ? 0 : Fail(buffer.Span, $"Deployment '{attempt.Target.Name}' ended the stream without finishing it.", "upstream_incomplete");
        }

        Watch(buffer.Span[..n]);
        return n;
    }

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    private void Watch(ReadOnlySpan<byte> chunk)
    {
        if (_sawDone)
        {
            return;
        }

        // Look across the boundary with the previous chunk: [DONE] may arrive split.
        Span<byte> joined = stackalloc byte[Done.Length * 2];
        var head = chunk[..Math.Min(chunk.Length, Done.Length)];
        _tail.AsSpan(0, _tailLength).CopyTo(joined);
        head.CopyTo(joined[_tailLength..]);
        if (joined[..(_tailLength + head.Length)].IndexOf(Done) >= 0 || chunk.IndexOf(Done) >= 0)
        {
            _sawDone = true;
            return;
        }

        var keep = chunk[Math.Max(0, chunk.Length - (Done.Length - 1))..];
        keep.CopyTo(_tail);
        _tailLength = keep.Length;
    }

    private int Fail(Span<byte> buffer, string message, string code)
    {
        _finished = true;
        attempt.MidStreamError = code;
        _pending = OpenAIError.SseEvent(message, OpenAIError.Upstream, code);
        _pendingOffset = 0;
        return DrainPending(buffer);
    }

    private int DrainPending(Span<byte> buffer)
    {
        var n = Math.Min(buffer.Length, _pending!.Length - _pendingOffset);
        _pending.AsSpan(_pendingOffset, n).CopyTo(buffer);
        _pendingOffset += n;
        if (_pendingOffset == _pending.Length)
        {
            _pending = null;
        }

        return n;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
