using System.Diagnostics;
using System.Text.Json;

namespace Flare.Web.Gateway;

/// <summary>
/// Writes the response through to the client unchanged and, on the side, notes when the first byte went
/// out and keeps what it needs to read <c>usage</c> afterwards: the last few KB of a stream (the usage
/// chunk comes just before <c>[DONE]</c>), or a non-streamed JSON body up to 1 MiB. Nothing is parsed
/// until the response has finished, so no chunk waits.
/// </summary>
internal sealed class UsageCaptureStream(Stream inner, bool streaming) : Stream
{
    private const int StreamTail = 8 * 1024;
    private const int MaxJsonBody = 1024 * 1024;

    private byte[] _buffer = new byte[streaming ? StreamTail * 2 : 4096];
    private int _length;
    private bool _overflow;

    /// <summary><see cref="Stopwatch"/> timestamp of the first byte written, 0 until then.</summary>
    public long FirstByteAt { get; private set; }

    public long BytesWritten { get; private set; }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        Capture(data.Span);
        return inner.WriteAsync(data, ct);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Write(byte[] buffer, int offset, int count)
    {
        Capture(buffer.AsSpan(offset, count));
        inner.Write(buffer, offset, count);
    }

    public override Task FlushAsync(CancellationToken ct) => inner.FlushAsync(ct);

    public override void Flush() => inner.Flush();

    private void Capture(ReadOnlySpan<byte> data)
    {
        if (data.IsEmpty)
        {
            return;
        }

        if (FirstByteAt == 0)
        {
            FirstByteAt = Stopwatch.GetTimestamp();
        }

        BytesWritten += data.Length;
        if (streaming)
        {
            // Keep the last StreamTail bytes: slide when the buffer fills.
            if (data.Length >= StreamTail)
            {
                data[^StreamTail..].CopyTo(_buffer);
                _length = StreamTail;
                return;
            }

            if (_length + data.Length > _buffer.Length)
            {
                var keep = StreamTail - data.Length;
                _buffer.AsSpan(_length - keep, keep).CopyTo(_buffer);
                _length = keep;
            }

            data.CopyTo(_buffer.AsSpan(_length));
            _length += data.Length;
            return;
        }

        if (_overflow)
        {
            return;
        }

        if (_length + data.Length > MaxJsonBody)
        {
            _overflow = true;
            return;
        }

        if (_length + data.Length > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Min(MaxJsonBody, Math.Max(_buffer.Length * 2, _length + data.Length)));
        }

        data.CopyTo(_buffer.AsSpan(_length));
        _length += data.Length;
    }

    /// <summary>Input and output tokens from the response's <c>usage</c>, when it had one.</summary>
    public (int Input, int Output)? ReadUsage()
    {
        var bytes = _buffer.AsSpan(0, _length);
        if (!streaming)
        {
            return _overflow ? null : UsageFrom(bytes);
        }

        // Walk the SSE events backwards; the last one carrying a usage object wins.
        var end = bytes.Length;
        while (end > 0)
        {
            var start = bytes[..end].LastIndexOf("data: "u8);
            if (start < 0)
            {
                break;
            }

            var line = bytes[(start + 6)..end];
            var newline = line.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                line = line[..newline];
            }

            if (line.IndexOf("\"usage\""u8) >= 0 && UsageFrom(line) is { } usage)
            {
                return usage;
            }

            end = start;
        }

        return null;
    }

    private static (int, int)? UsageFrom(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object
                && u.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt32(out var input)
                && u.TryGetProperty("completion_tokens", out var c) && c.TryGetInt32(out var output))
            {
                return (input, output);
            }
        }
        catch (JsonException)
        {
            // Not JSON (or cut): no usage to report.
        }

        return null;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
