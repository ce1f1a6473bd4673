using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flare.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class PrefillTokenBudget : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<double>(
                name: "TtftPrefillTokensPerStep",
                table: "ProfileFits",
                type: "REAL",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TtftPrefillTokensPerStep",
                table: "ProfileFits");
        }
    }
}
