using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Flare.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class PrefillShareSteepness : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Every fit stored so far was made with σ's earlier steepness (LatencyModel.EarlierSwitchSteepness).
            migrationBuilder.AddColumn<double>(
                name: "PrefillShareSteepness",
                table: "ProfileFits",
                type: "double precision",
                nullable: false,
                defaultValue: 8.0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "PrefillShareSteepness",
                table: "ProfileFits");
        }
    }
}
