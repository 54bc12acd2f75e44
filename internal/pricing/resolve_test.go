package pricing_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"
	"github.com/stretchr/testify/require"

	"github.com/customerhub/customerhub/internal/apptest"
	"github.com/customerhub/customerhub/internal/customer"
	"github.com/customerhub/customerhub/internal/dbsqlc"
	"github.com/customerhub/customerhub/internal/group"
	"github.com/customerhub/customerhub/internal/pricing"
	"github.com/customerhub/customerhub/internal/settings"
)

func dec(s string) *decimal.Decimal {
	d := decimal.RequireFromString(s)
	return &d
}

func TestResolve(t *testing.T) {
	t.Parallel()
	usd := pricing.Terms{Currency: "USD", TenantCurrency: "USD"}
	eur := pricing.Terms{Currency: "EUR", TenantCurrency: "USD"}
	base := decimal.RequireFromString("10")
	tests := []struct {
		name                 string
		terms                pricing.Terms
		customer, own, group *decimal.Decimal
		ownOK, groupOK       bool
		wantList, wantSource string
	}{
		{"CustomerPriceFirst", usd, dec("5"), dec("6"), dec("7"), true, true, "5", pricing.SourceCustomerPrice},
		{"CustomerPriceInAnyCurrency", eur, dec("5"), nil, nil, false, false, "5", pricing.SourceCustomerPrice},
		{"CustomerPriceZero", usd, dec("0"), dec("6"), nil, true, false, "0", pricing.SourceCustomerPrice},
		{"OwnList", usd, nil, dec("6"), dec("7"), true, true, "6", pricing.SourcePriceList},
		{"OwnListOtherCurrencySkipped", usd, nil, dec("6"), dec("7"), false, true, "7", pricing.SourceGroupPriceList},
		{"GroupList", usd, nil, nil, dec("7"), false, true, "7", pricing.SourceGroupPriceList},
		{"GroupListOtherCurrencySkipped", usd, nil, nil, dec("7"), false, false, "10", pricing.SourceBasePrice},
		{"BothListsOtherCurrency", usd, nil, dec("6"), dec("7"), false, false, "10", pricing.SourceBasePrice},
		{"BasePrice", usd, nil, nil, nil, false, false, "10", pricing.SourceBasePrice},
		{"BasePriceNotInCustomerCurrency", eur, nil, nil, nil, false, false, "", pricing.SourceNone},
		{"ListInCustomerCurrency", eur, nil, dec("6"), nil, true, false, "6", pricing.SourcePriceList},
		{"NothingInCustomerCurrency", eur, nil, dec("6"), dec("7"), false, false, "", pricing.SourceNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			list, source := pricing.Resolve(tc.terms, tc.customer, tc.own, tc.group, tc.ownOK, tc.groupOK, base)
			require.Equal(t, tc.wantSource, source)
			if tc.wantList == "" {
				require.Nil(t, list)
				return
			}
			require.NotNil(t, list)
			require.True(t, decimal.RequireFromString(tc.wantList).Equal(*list), "got %s", list)
		})
	}
}

func TestDiscounted(t *testing.T) {
	t.Parallel()
	tests := []struct{ price, rate, want string }{
		{"100", "0", "100"},
		{"100", "12.5", "87.5"},
		{"19.99", "15", "16.9915"},
		{"0.0125", "33.33", "0.0083"},                      // 0.008333... rounds down
		{"0.0001", "50", "0.0001"},                         // 0.00005 rounds half away from zero
		{"999999999999.9999", "0.01", "999899999999.9999"}, // 999899999999.99990001, exactly, then to 4 decimals
		{"5", "100", "0"},
	}
	for _, tc := range tests {
		got := pricing.Discounted(decimal.RequireFromString(tc.price), decimal.RequireFromString(tc.rate))
		require.True(t, decimal.RequireFromString(tc.want).Equal(got), "%s less %s%%: got %s, want %s", tc.price, tc.rate, got, tc.want)
	}
}

func TestFormatPrice(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ price, currency, want string }{
		{"12.5000", "USD", "12.50"},
		{"12.0000", "JPY", "12"},
		{"12.5000", "JPY", "12.5"},
		{"0.0125", "USD", "0.0125"},
		{"1.2340", "USD", "1.234"},
		{"1.0000", "KWD", "1.000"},
	} {
		require.Equal(t, tc.want, pricing.FormatPrice(decimal.RequireFromString(tc.price), tc.currency), tc.price+" "+tc.currency)
	}
}

func TestTermsFor(t *testing.T) {
	t.Parallel()
	env := settings.Env{Settings: settings.Settings{DefaultCurrency: "USD"}}
	own, regionList, levelList := uuid.New(), uuid.New(), uuid.New()
	region := group.Membership{Category: "region", CategoryPosition: 1, GroupID: uuid.New(), Code: "NORTH", DiscountRate: dec("5")}
	level := group.Membership{Category: "level", CategoryPosition: 2, GroupID: uuid.New(), Code: "GOLD", PriceListID: &levelList, DiscountRate: dec("10")}
	regionWithList := region
	regionWithList.PriceListID = &regionList
	eur := "EUR"
	id := uuid.New()

	t.Run("NoGroups", func(t *testing.T) {
		t.Parallel()
		got := pricing.TermsFor(customer.Detail{Customer: dbsqlc.Customer{ID: id}}, env)
		require.Equal(t, pricing.Terms{CustomerID: id, Currency: "USD", TenantCurrency: "USD", DiscountRate: decimal.Zero}, got)
	})
	t.Run("OwnValues", func(t *testing.T) {
		t.Parallel()
		got := pricing.TermsFor(customer.Detail{
			Customer: dbsqlc.Customer{ID: id, Currency: &eur, PriceListID: &own, DiscountRate: dec("0")},
			Groups:   []group.Membership{region, level},
		}, env)
		require.Equal(t, "EUR", got.Currency)
		require.Equal(t, "USD", got.TenantCurrency)
		require.Equal(t, &own, got.PriceListID)
		require.Equal(t, &levelList, got.GroupPriceListID, "the group list is kept apart from the customer's own")
		require.Equal(t, &level.GroupID, got.GroupID)
		require.True(t, got.DiscountRate.IsZero(), "the customer's own 0 %% wins over its groups'")
	})
	t.Run("GroupsInPrecedenceOrder", func(t *testing.T) {
		t.Parallel()
		got := pricing.TermsFor(customer.Detail{Customer: dbsqlc.Customer{ID: id}, Groups: []group.Membership{region, level}}, env)
		require.Nil(t, got.PriceListID)
		require.Equal(t, &levelList, got.GroupPriceListID, "the first group with a list, not the first group")
		require.Equal(t, &level.GroupID, got.GroupID)
		require.Equal(t, "5", got.DiscountRate.String(), "the first group that sets a discount")

		got = pricing.TermsFor(customer.Detail{Customer: dbsqlc.Customer{ID: id}, Groups: []group.Membership{regionWithList, level}}, env)
		require.Equal(t, &regionList, got.GroupPriceListID)
		require.Equal(t, &region.GroupID, got.GroupID)
	})
}

// TestCustomerPrices covers GET /v1/customers/{id}/prices: each source,
// the discount, currencies, and who may see what.
func TestCustomerPrices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for sku, base := range map[string]string{"A": "10", "B": "20", "C": "30", "D": "40"} {
		b.item(t, sku, base)
	}
	own := b.create(t, "/v1/price-lists", map[string]any{"code": "OWN", "name": "Own", "currency": "USD"})
	grp := b.create(t, "/v1/price-lists", map[string]any{"code": "GROUP", "name": "Group", "currency": "USD"})
	eurList := b.create(t, "/v1/price-lists", map[string]any{"code": "EUROPE", "name": "Europe", "currency": "EUR"})
	b.listPrice(t, own["id"], "A", "9")
	b.listPrice(t, own["id"], "B", "18")
	b.listPrice(t, grp["id"], "A", "8")
	b.listPrice(t, grp["id"], "B", "17")
	b.listPrice(t, grp["id"], "C", "27.50")
	b.listPrice(t, eurList["id"], "A", "1.10")
	b.create(t, "/v1/customer-groups", map[string]any{"category": "region", "code": "NORTH", "name": "North", "discount_rate": "10"})
	gold := b.create(t, "/v1/customer-groups", map[string]any{"category": "level", "code": "GOLD", "name": "Gold", "price_list_id": grp["id"], "discount_rate": "50"})

	type quote struct {
		SKU          string            `json:"sku"`
		ItemID       string            `json:"item_id"`
		Name         string            `json:"name"`
		ListPrice    *string           `json:"list_price"`
		DiscountRate string            `json:"discount_rate"`
		UnitPrice    *string           `json:"unit_price"`
		Source       string            `json:"source"`
		PriceList    map[string]string `json:"price_list"`
		Group        map[string]string `json:"group"`
	}
	type quotes struct {
		Currency string  `json:"currency"`
		Items    []quote `json:"items"`
	}
	get := func(t *testing.T, token string, cust map[string]any, skus string) quotes {
		t.Helper()
		resp := b.app.Get(t, "/v1/customers/"+cust["id"].(string)+"/prices?items="+url.QueryEscape(skus), token)
		require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
		var q quotes
		resp.JSON(t, &q)
		return q
	}
	str := func(s string) *string { return &s }
	listRef := func(pl map[string]any) map[string]string {
		return map[string]string{"id": pl["id"].(string), "code": pl["code"].(string), "name": pl["name"].(string)}
	}
	groupRef := map[string]string{"id": gold["id"].(string), "category": "level", "code": "GOLD", "name": "Gold"}

	// In region NORTH (10 %) and level GOLD (list GROUP): region comes
	// first, so its discount applies; GOLD is the first group with a list.
	grouped := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Grouped", "price_list_id": own["id"],
		"groups": map[string]any{"region": "NORTH", "level": "GOLD"}})
	resp := b.put(t, "/v1/customers/"+grouped["id"].(string)+"/prices/A", b.tn.AdminToken, map[string]any{"price": "7.25"})
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	got := resp.Map(t)
	require.Equal(t, grouped["id"], got["customer_id"])
	require.Equal(t, "7.25", got["price"])
	require.Equal(t, "USD", got["currency"])
	resp = b.put(t, "/v1/customers/"+grouped["id"].(string)+"/prices/A", b.tn.AdminToken, map[string]any{"price": "7"})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	t.Run("EachSource", func(t *testing.T) {
		t.Parallel()
		q := get(t, b.tn.AdminToken, grouped, "A,B,C,D")
		require.Equal(t, "USD", q.Currency)
		require.Len(t, q.Items, 4)
		want := []quote{
			{SKU: "A", ListPrice: str("7.00"), UnitPrice: str("6.30"), Source: "customer_price"},
			{SKU: "B", ListPrice: str("18.00"), UnitPrice: str("16.20"), Source: "price_list", PriceList: listRef(own)},
			{SKU: "C", ListPrice: str("27.50"), UnitPrice: str("24.75"), Source: "group_price_list", PriceList: listRef(grp), Group: groupRef},
			{SKU: "D", ListPrice: str("40.00"), UnitPrice: str("36.00"), Source: "base_price"},
		}
		for i := range want {
			want[i].ItemID, want[i].Name, want[i].DiscountRate = q.Items[i].ItemID, "Item "+want[i].SKU, "10.00"
			require.NotEmpty(t, q.Items[i].ItemID)
		}
		require.Equal(t, want, q.Items)
	})
	t.Run("OwnDiscountWins", func(t *testing.T) {
		t.Parallel()
		c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Haggler", "discount_rate": "12.5",
			"groups": map[string]any{"region": "NORTH"}})
		q := get(t, b.tn.AdminToken, c, "D")
		require.Equal(t, "12.50", q.Items[0].DiscountRate)
		require.Equal(t, "35.00", *q.Items[0].UnitPrice)
		require.Nil(t, q.Items[0].Group, "group is where a group list came from, not the discount")
	})
	t.Run("OrderAndDuplicatesKept", func(t *testing.T) {
		t.Parallel()
		q := get(t, b.tn.AdminToken, grouped, " D , A,D")
		skus := []string{}
		for _, it := range q.Items {
			skus = append(skus, it.SKU)
		}
		require.Equal(t, []string{"D", "A", "D"}, skus)
	})
	t.Run("CurrencyMismatchSkipsList", func(t *testing.T) {
		t.Parallel()
		// A USD customer on the EUR list: the list is skipped for the group's.
		c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Misfiled", "price_list_id": eurList["id"],
			"groups": map[string]any{"level": "GOLD"}})
		q := get(t, b.tn.AdminToken, c, "A,D")
		require.Equal(t, "group_price_list", q.Items[0].Source)
		require.Equal(t, "8.00", *q.Items[0].ListPrice)
		require.Equal(t, "4.00", *q.Items[0].UnitPrice)
		require.Equal(t, "50.00", q.Items[0].DiscountRate)
		require.Equal(t, "base_price", q.Items[1].Source)
	})
	t.Run("OtherCurrencyCustomer", func(t *testing.T) {
		t.Parallel()
		// A EUR customer: its EUR list applies; the group's USD list and the
		// USD base prices do not, so B has no price.
		c := b.app.CreateCustomer(t, b.tn.AdminToken, map[string]any{"name": "Europe", "currency": "EUR", "price_list_id": eurList["id"],
			"groups": map[string]any{"level": "GOLD"}})
		q := get(t, b.tn.AdminToken, c, "A,B")
		require.Equal(t, "EUR", q.Currency)
		require.Equal(t, "price_list", q.Items[0].Source)
		require.Equal(t, "1.10", *q.Items[0].ListPrice)
		require.Equal(t, "0.55", *q.Items[0].UnitPrice)
		require.Equal(t, quote{SKU: "B", ItemID: q.Items[1].ItemID, Name: "Item B", DiscountRate: "50.00", Source: "none"}, q.Items[1])

		resp := b.put(t, "/v1/customers/"+c["id"].(string)+"/prices/B", b.tn.AdminToken, map[string]any{"price": "15"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, "EUR", resp.Map(t)["currency"], "a customer price is in the customer's currency")
		q = get(t, b.tn.AdminToken, c, "B")
		require.Equal(t, "customer_price", q.Items[0].Source)
		require.Equal(t, "7.50", *q.Items[0].UnitPrice)

		require.Equal(t, http.StatusNoContent, b.app.Delete(t, "/v1/customers/"+c["id"].(string)+"/prices/B", b.tn.AdminToken).Status)
		require.Equal(t, "none", get(t, b.tn.AdminToken, c, "B").Items[0].Source)
		resp = b.app.Delete(t, "/v1/customers/"+c["id"].(string)+"/prices/B", b.tn.AdminToken)
		require.Equal(t, http.StatusNotFound, resp.Status)
		require.Equal(t, "price not found", detail(t, resp))
	})
	t.Run("BadItems", func(t *testing.T) {
		t.Parallel()
		path := "/v1/customers/" + grouped["id"].(string) + "/prices"
		for query, code := range map[string]string{
			"":              "required",
			"?items=":       "required",
			"?items=A,,B":   "invalid_items",
			"?items=A,NOPE": "unknown_item",
			"?items=" + strings.Repeat("A,", 100) + "A": "too_many",
		} {
			resp := b.app.Get(t, path+query, b.tn.AdminToken)
			require.Equal(t, http.StatusBadRequest, resp.Status, query)
			require.Equal(t, map[string]string{"items": code}, fields(t, resp), query)
		}
		resp := b.app.Get(t, path+"?items=A,NOPE", b.tn.AdminToken)
		require.Contains(t, detail(t, resp), `"NOPE"`)
		require.Len(t, get(t, b.tn.AdminToken, grouped, strings.Repeat("A,", 99)+"A").Items, 100)

		// A retired item is no longer priced.
		retired := b.item(t, "OLD", "1")
		require.Equal(t, http.StatusOK, b.app.Patch(t, "/v1/items/"+retired["id"].(string), b.tn.AdminToken, `"1"`, map[string]any{"active": false}).Status)
		resp = b.app.Get(t, path+"?items=OLD", b.tn.AdminToken)
		require.Equal(t, map[string]string{"items": "unknown_item"}, fields(t, resp))
	})
	t.Run("CustomerPriceValidation", func(t *testing.T) {
		t.Parallel()
		path := "/v1/customers/" + grouped["id"].(string) + "/prices/"
		require.Equal(t, map[string]string{"price": "out_of_range"}, fields(t, b.put(t, path+"B", b.tn.AdminToken, map[string]any{"price": "-5"})))
		require.Equal(t, map[string]string{"price": "required"}, fields(t, b.put(t, path+"B", b.tn.AdminToken, map[string]any{"price": nil})))
		resp := b.put(t, path+"NOPE", b.tn.AdminToken, map[string]any{"price": "1"})
		require.Equal(t, http.StatusNotFound, resp.Status)
		require.Equal(t, "item not found", detail(t, resp))
		resp = b.put(t, "/v1/customers/"+uuid.NewString()+"/prices/B", b.tn.AdminToken, map[string]any{"price": "1"})
		require.Equal(t, http.StatusNotFound, resp.Status)
		require.Equal(t, "customer not found", detail(t, resp))
	})
	t.Run("SalesRepSeesOwnCustomersOnly", func(t *testing.T) {
		t.Parallel()
		rep := b.app.CreateUser(t, b.tn, "sales_rep", nil)
		mine := b.app.CreateCustomer(t, rep.Token, map[string]any{"name": "Rep's own"})
		require.Equal(t, rep.ID, mine["sales_rep_id"])
		require.Equal(t, "base_price", get(t, rep.Token, mine, "D").Items[0].Source)
		resp := b.put(t, "/v1/customers/"+mine["id"].(string)+"/prices/D", rep.Token, map[string]any{"price": "39"})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		require.Equal(t, "39.00", *get(t, rep.Token, mine, "D").Items[0].ListPrice)

		others := "/v1/customers/" + grouped["id"].(string) + "/prices"
		for _, resp := range []*apptest.Response{
			b.app.Get(t, others+"?items=A", rep.Token),
			b.app.Get(t, others+"?items=NOPE", rep.Token),
			b.app.Get(t, others, rep.Token),
			b.put(t, others+"/A", rep.Token, map[string]any{"price": "1"}),
			b.app.Delete(t, others+"/A", rep.Token),
		} {
			require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
			require.Equal(t, "customer not found", detail(t, resp))
		}
		require.Equal(t, "7.00", *get(t, b.tn.AdminToken, grouped, "A").Items[0].ListPrice, "the admin's customer price is untouched")
	})
	t.Run("Permissions", func(t *testing.T) {
		t.Parallel()
		viewer := b.app.CreateUser(t, b.tn, "viewer", nil)
		require.Equal(t, "customer_price", get(t, viewer.Token, grouped, "A").Items[0].Source)
		path := "/v1/customers/" + grouped["id"].(string) + "/prices/B"
		require.Equal(t, http.StatusForbidden, b.put(t, path, viewer.Token, map[string]any{"price": "1"}).Status)
		require.Equal(t, http.StatusForbidden, b.app.Delete(t, path, viewer.Token).Status)
	})
	t.Run("OtherTenant", func(t *testing.T) {
		t.Parallel()
		other := b.app.Signup(t)
		resp := b.app.Post(t, "/v1/items", other.AdminToken, map[string]any{"sku": "A", "name": "Theirs", "base_price": "1"})
		require.Equal(t, http.StatusCreated, resp.Status)
		path := "/v1/customers/" + grouped["id"].(string) + "/prices"
		for _, resp := range []*apptest.Response{
			b.app.Get(t, path+"?items=A", other.AdminToken),
			b.put(t, path+"/A", other.AdminToken, map[string]any{"price": "1"}),
			b.app.Delete(t, path+"/A", other.AdminToken),
		} {
			require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)
			require.Equal(t, "customer not found", detail(t, resp))
		}
		// Nor can another tenant's customer reach this tenant's items.
		theirs := b.app.CreateCustomer(t, other.AdminToken, map[string]any{"name": "Theirs"})
		q := get(t, other.AdminToken, theirs, "A")
		require.Equal(t, "1.00", *q.Items[0].ListPrice)
		resp = b.app.Get(t, "/v1/customers/"+theirs["id"].(string)+"/prices?items=B", other.AdminToken)
		require.Equal(t, map[string]string{"items": "unknown_item"}, fields(t, resp))
	})
}
