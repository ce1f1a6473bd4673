using System.Diagnostics;
using System.Text.Json;

namespace Flare.Web.Gateway;

/// <summary>
/// Writes the response through to the client and, on the side, notes when the first byte went out and keeps what it
/// needs to read <c>usage</c> afterwards: the last few KB of a stream (the usage chunk comes just before <c>[DONE]</c>),
/// or a non-streamed JSON body up to 1 MiB. Nothing is parsed until the response has finished, so no chunk waits.
/// </summary>
/// <remarks>
/// With <paramref name="hideUsageChunk"/> (a stream whose client did not ask for usage, which Flare asked the backend
/// for), the usage-only event (<c>"choices": []</c> with <c>usage</c>) is kept from the client, as OpenAI would not have
/// sent it: clients that read <c>choices[0]</c> of every chunk would fail on it. Every other event passes as it comes;
/// only an event split across writes before its <c>choices</c> can be told waits for the rest of itself.
/// </remarks>
internal sealed class UsageCaptureStream(Stream inner, bool streaming, bool hideUsageChunk = false) : Stream
{
    private const int StreamTail = 8 * 1024;
    private const int MaxJsonBody = 1024 * 1024;
    private const int MaxHeld = 64 * 1024;

    private byte[]? _held;
    private int _heldLength;
    private bool _passing;
    private bool _sentNewline;

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
        return hideUsageChunk ? WriteFilteredAsync(data, ct) : inner.WriteAsync(data, ct);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
        WriteAsync(buffer.AsMemory(offset, count), ct).AsTask();

    public override void Write(byte[] buffer, int offset, int count) =>
        WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    /// <summary>Passes every SSE event but the usage-only one; see the remarks.</summary>
    private async ValueTask WriteFilteredAsync(ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        while (!data.IsEmpty)
        {
            if (_passing)
            {
                // The rest of an event already (partly) sent; its blank line may have been cut between two writes.
                int upTo;
                if (_sentNewline && data.Span[0] == (byte)'\n')
                {
                    upTo = 1;
                    _passing = false;
                }
                else
                {
                    var end = data.Span.IndexOf("\n\n"u8);
                    upTo = end < 0 ? data.Length : end + 2;
                    _passing = end < 0;
                }

                await inner.WriteAsync(data[..upTo], ct);
                _sentNewline = data.Span[upTo - 1] == (byte)'\n';
                data = data[upTo..];
                continue;
            }

            // At the start of an event, with whatever of it an earlier write left held.
            ReadOnlyMemory<byte> pending = data;
            if (_heldLength > 0)
            {
                Hold(data.Span);
                pending = _held.AsMemory(0, _heldLength);
                data = ReadOnlyMemory<byte>.Empty;
            }

            var boundary = pending.Span.IndexOf("\n\n"u8);
            if (boundary >= 0)
            {
                var ev = pending[..(boundary + 2)];
                if (!IsUsageOnly(ev.Span))
                {
                    await inner.WriteAsync(ev, ct);
                }

                var rest = pending[(boundary + 2)..];
                if (_heldLength > 0)
                {
                    // The held bytes are consumed; what followed the event is processed from a copy of its own.
                    data = rest.ToArray();
                    _heldLength = 0;
                }
                else
                {
                    data = rest;
                }

                continue;
            }

            // An incomplete event: send it on unless it may be the usage-only one.
            if (MayBeUsageOnly(pending.Span) && pending.Length < MaxHeld)
            {
                if (_heldLength == 0)
                {
                    Hold(pending.Span);
                }

                return;
            }

            await inner.WriteAsync(pending, ct);
            _sentNewline = pending.Span[^1] == (byte)'\n';
            _heldLength = 0;
            _passing = true;
            return;
        }
    }

    private void Hold(ReadOnlySpan<byte> bytes)
    {
        if (_held is null || _heldLength + bytes.Length > _held.Length)
        {
            Array.Resize(ref _held, Math.Max(1024, (_heldLength + bytes.Length) * 2));
        }

        bytes.CopyTo(_held.AsSpan(_heldLength));
        _heldLength += bytes.Length;
    }

    /// <summary>A start of an event that could still turn out to be the usage-only chunk: a JSON data event whose
    /// <c>choices</c> has not been seen, or is empty.</summary>
    private static bool MayBeUsageOnly(ReadOnlySpan<byte> partial)
    {
        if (!partial.StartsWith("data: {"u8) && !"data: {"u8.StartsWith(partial))
        {
            return false;
        }

        var choices = partial.IndexOf("\"choices\""u8);
        if (choices < 0)
        {
            return true;
        }

        var after = partial[(choices + 9)..].TrimStart(" :"u8);
        return after.Length < 2 || (after[0] == (byte)'[' && after[1..].TrimStart(" \t\r\n"u8) is var inside && (inside.IsEmpty || inside[0] == (byte)']'));
    }

    /// <summary>A whole event carrying usage and no choices.</summary>
    internal static bool IsUsageOnly(ReadOnlySpan<byte> ev)
    {
        if (!ev.StartsWith("data: {"u8) || ev.IndexOf("\"usage\""u8) < 0)
        {
            return false;
        }

        try
        {
            var reader = new Utf8JsonReader(ev[6..].TrimEnd("\r\n"u8));
            using var doc = JsonDocument.ParseValue(ref reader);
            var root = doc.RootElement;
            return root.ValueKind == JsonValueKind.Object
                && root.TryGetProperty("choices", out var c) && c.ValueKind == JsonValueKind.Array && c.GetArrayLength() == 0
                && root.TryGetProperty("usage", out var u) && u.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
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
