using System.Globalization;
using System.Text;

namespace Flare.Routing.Estimation.Datasets;

/// <summary>Reads a Python list of string literals, as pandas writes a list cell to CSV
/// (<c>['You are ...', "It's ..."]</c>).</summary>
internal static class PythonLiteral
{
    /// <summary>The strings of a list literal; false when <paramref name="text"/> is not one.</summary>
    public static bool TryParseStringList(string text, out List<string> items)
    {
        items = [];
        var s = text.AsSpan().Trim();
        if (s.Length < 2 || s[0] != '[' || s[^1] != ']')
        {
            return false;
        }

        var i = 1;
        SkipSpace(s, ref i);
        if (s[i] == ']')
        {
            return i == s.Length - 1;
        }

        while (true)
        {
            if (!TryString(s, ref i, out var item))
            {
                return false;
            }

            items.Add(item);
            SkipSpace(s, ref i);
            if (s[i] == ',')
            {
                i++;
                SkipSpace(s, ref i);
                if (s[i] == ']')
                {
                    return i == s.Length - 1;
                }

                continue;
            }

            return s[i] == ']' && i == s.Length - 1;
        }
    }

    private static void SkipSpace(ReadOnlySpan<char> s, ref int i)
    {
        while (i < s.Length - 1 && char.IsWhiteSpace(s[i]))
        {
            i++;
        }
    }

    private static bool TryString(ReadOnlySpan<char> s, ref int i, out string value)
    {
        value = "";
        var raw = false;
        while (i < s.Length && s[i] is 'r' or 'R' or 'u' or 'U' or 'b' or 'B')
        {
            raw |= s[i] is 'r' or 'R';
            i++;
        }

        if (i >= s.Length || s[i] is not ('\'' or '"'))
        {
            return false;
        }

        var quote = s[i++];
        var b = new StringBuilder();
        while (i < s.Length)
        {
            var ch = s[i++];
            if (ch == quote)
            {
                value = b.ToString();
                return true;
            }

            if (ch != '\\' || i >= s.Length)
            {
                b.Append(ch);
                continue;
            }

            var e = s[i++];
            if (raw)
            {
                b.Append('\\').Append(e);
                continue;
            }

            switch (e)
            {
                case 'n': b.Append('\n'); break;
                case 't': b.Append('\t'); break;
                case 'r': b.Append('\r'); break;
                case '0': b.Append('\0'); break;
                case '\\' or '\'' or '"': b.Append(e); break;
                case '\n': break; // a line continuation
                case 'x' when i + 2 <= s.Length && TryHex(s.Slice(i, 2), out var x):
                    b.Append((char)x);
                    i += 2;
                    break;
                case 'u' when i + 4 <= s.Length && TryHex(s.Slice(i, 4), out var u):
                    b.Append((char)u);
                    i += 4;
                    break;
                case 'U' when i + 8 <= s.Length && TryHex(s.Slice(i, 8), out var big) && big <= 0x10FFFF:
                    b.Append(char.ConvertFromUtf32(big));
                    i += 8;
                    break;
                default:
                    b.Append('\\').Append(e); // Python keeps unknown escapes as written
                    break;
            }
        }

        return false;
    }

    private static bool TryHex(ReadOnlySpan<char> digits, out int value) =>
        int.TryParse(digits, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out value);
}
