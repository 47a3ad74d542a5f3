def test_home_page_is_chinese_and_operator_sees_own_departments(login_as):
    client = login_as("operator_a")
    html = client.get("/").get_data(as_text=True)
    assert "“双随机、一公开”监管" in html
    assert "水资源管理科" in html
    page = client.get("/departments/list/")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "节约用水办公室" in text
    assert "河湖管理科" not in text
