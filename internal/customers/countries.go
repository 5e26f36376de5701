package customers

import (
	"sort"
	"strings"

	"github.com/storekeep/storekeep/internal/tax"
)

// Country is an ISO 3166-1 country with its English short name.
type Country struct {
	Code string // alpha-2, upper case
	Name string
}

// countryList is ISO 3166-1 alpha-2: the officially assigned codes, as
// CODE=Name pairs.
const countryList = `AD=Andorra|AE=United Arab Emirates|AF=Afghanistan|AG=Antigua and Barbuda|AI=Anguilla|AL=Albania|AM=Armenia|AO=Angola|AQ=Antarctica|AR=Argentina|AS=American Samoa|AT=Austria|AU=Australia|AW=Aruba|AX=Åland Islands|AZ=Azerbaijan|` +
	`BA=Bosnia and Herzegovina|BB=Barbados|BD=Bangladesh|BE=Belgium|BF=Burkina Faso|BG=Bulgaria|BH=Bahrain|BI=Burundi|BJ=Benin|BL=Saint Barthélemy|BM=Bermuda|BN=Brunei|BO=Bolivia|BQ=Caribbean Netherlands|BR=Brazil|BS=Bahamas|BT=Bhutan|BV=Bouvet Island|BW=Botswana|BY=Belarus|BZ=Belize|` +
	`CA=Canada|CC=Cocos (Keeling) Islands|CD=Congo (Democratic Republic)|CF=Central African Republic|CG=Congo|CH=Switzerland|CI=Côte d’Ivoire|CK=Cook Islands|CL=Chile|CM=Cameroon|CN=China|CO=Colombia|CR=Costa Rica|CU=Cuba|CV=Cabo Verde|CW=Curaçao|CX=Christmas Island|CY=Cyprus|CZ=Czechia|` +
	`DE=Germany|DJ=Djibouti|DK=Denmark|DM=Dominica|DO=Dominican Republic|DZ=Algeria|` +
	`EC=Ecuador|EE=Estonia|EG=Egypt|EH=Western Sahara|ER=Eritrea|ES=Spain|ET=Ethiopia|` +
	`FI=Finland|FJ=Fiji|FK=Falkland Islands|FM=Micronesia|FO=Faroe Islands|FR=France|` +
	`GA=Gabon|GB=United Kingdom|GD=Grenada|GE=Georgia|GF=French Guiana|GG=Guernsey|GH=Ghana|GI=Gibraltar|GL=Greenland|GM=Gambia|GN=Guinea|GP=Guadeloupe|GQ=Equatorial Guinea|GR=Greece|GS=South Georgia and the South Sandwich Islands|GT=Guatemala|GU=Guam|GW=Guinea-Bissau|GY=Guyana|` +
	`HK=Hong Kong|HM=Heard Island and McDonald Islands|HN=Honduras|HR=Croatia|HT=Haiti|HU=Hungary|` +
	`ID=Indonesia|IE=Ireland|IL=Israel|IM=Isle of Man|IN=India|IO=British Indian Ocean Territory|IQ=Iraq|IR=Iran|IS=Iceland|IT=Italy|` +
	`JE=Jersey|JM=Jamaica|JO=Jordan|JP=Japan|` +
	`KE=Kenya|KG=Kyrgyzstan|KH=Cambodia|KI=Kiribati|KM=Comoros|KN=Saint Kitts and Nevis|KP=North Korea|KR=South Korea|KW=Kuwait|KY=Cayman Islands|KZ=Kazakhstan|` +
	`LA=Laos|LB=Lebanon|LC=Saint Lucia|LI=Liechtenstein|LK=Sri Lanka|LR=Liberia|LS=Lesotho|LT=Lithuania|LU=Luxembourg|LV=Latvia|LY=Libya|` +
	`MA=Morocco|MC=Monaco|MD=Moldova|ME=Montenegro|MF=Saint Martin (French part)|MG=Madagascar|MH=Marshall Islands|MK=North Macedonia|ML=Mali|MM=Myanmar|MN=Mongolia|MO=Macao|MP=Northern Mariana Islands|MQ=Martinique|MR=Mauritania|MS=Montserrat|MT=Malta|MU=Mauritius|MV=Maldives|MW=Malawi|MX=Mexico|MY=Malaysia|MZ=Mozambique|` +
	`NA=Namibia|NC=New Caledonia|NE=Niger|NF=Norfolk Island|NG=Nigeria|NI=Nicaragua|NL=Netherlands|NO=Norway|NP=Nepal|NR=Nauru|NU=Niue|NZ=New Zealand|` +
	`OM=Oman|` +
	`PA=Panama|PE=Peru|PF=French Polynesia|PG=Papua New Guinea|PH=Philippines|PK=Pakistan|PL=Poland|PM=Saint Pierre and Miquelon|PN=Pitcairn|PR=Puerto Rico|PS=Palestine|PT=Portugal|PW=Palau|PY=Paraguay|` +
	`QA=Qatar|` +
	`RE=Réunion|RO=Romania|RS=Serbia|RU=Russia|RW=Rwanda|` +
	`SA=Saudi Arabia|SB=Solomon Islands|SC=Seychelles|SD=Sudan|SE=Sweden|SG=Singapore|SH=Saint Helena, Ascension and Tristan da Cunha|SI=Slovenia|SJ=Svalbard and Jan Mayen|SK=Slovakia|SL=Sierra Leone|SM=San Marino|SN=Senegal|SO=Somalia|SR=Suriname|SS=South Sudan|ST=São Tomé and Príncipe|SV=El Salvador|SX=Sint Maarten (Dutch part)|SY=Syria|SZ=Eswatini|` +
	`TC=Turks and Caicos Islands|TD=Chad|TF=French Southern Territories|TG=Togo|TH=Thailand|TJ=Tajikistan|TK=Tokelau|TL=Timor-Leste|TM=Turkmenistan|TN=Tunisia|TO=Tonga|TR=Türkiye|TT=Trinidad and Tobago|TV=Tuvalu|TW=Taiwan|TZ=Tanzania|` +
	`UA=Ukraine|UG=Uganda|UM=United States Minor Outlying Islands|US=United States|UY=Uruguay|UZ=Uzbekistan|` +
	`VA=Holy See|VC=Saint Vincent and the Grenadines|VE=Venezuela|VG=Virgin Islands (British)|VI=Virgin Islands (U.S.)|VN=Viet Nam|VU=Vanuatu|` +
	`WF=Wallis and Futuna|WS=Samoa|` +
	`YE=Yemen|YT=Mayotte|` +
	`ZA=South Africa|ZM=Zambia|ZW=Zimbabwe`

var (
	countries     []Country         // sorted by name
	countryByCode map[string]string // code → name
)

// sortKey folds the few accented letters in the names, so that Åland
// sorts with the A's.
var sortKey = strings.NewReplacer("Å", "A", "é", "e", "ç", "c", "ô", "o", "ã", "a", "í", "i", "ü", "u")

func init() {
	countryByCode = map[string]string{}
	for _, pair := range strings.Split(countryList, "|") {
		code, name, _ := strings.Cut(pair, "=")
		countryByCode[code] = name
		countries = append(countries, Country{Code: code, Name: name})
	}
	sort.Slice(countries, func(i, j int) bool { return sortKey.Replace(countries[i].Name) < sortKey.Replace(countries[j].Name) })
}

// Countries lists every country a billing address may be in, by name.
func Countries() []Country { return countries }

// CountryName returns the English name of an alpha-2 code, or "" for an
// unknown code.
func CountryName(code string) string { return countryByCode[code] }

// IsEU reports whether the country code names an EU member state (the
// tax rules' list: internal/tax keeps the one list of member states).
func IsEU(code string) bool { return tax.IsEU(code) }
